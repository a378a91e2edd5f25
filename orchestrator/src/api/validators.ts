// Request validation, with two ajv instances. Query, params and headers
// arrive as text and are coerced to the types their schemas name; a JSON body
// already has types, so a body field of the wrong type is refused, never
// coerced: where the API document says "string", false is not one.
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyServerOptions } from 'fastify';
import { isEmail } from '../formats.js';

const OPTIONS: Options = {
  useDefaults: true,
  removeAdditional: false,
  addUsedSchema: false,
  // One error is enough to answer, and all of them would cost more to find (a DoS lever).
  allErrors: false,
  // An error carries its field's schema, whose description states the rule (error-handler.ts).
  verbose: true
};

function instance(externalSchemas: Record<string, object>, coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({ ...OPTIONS, coerceTypes });
  // A CommonJS module: its function is also its `default` property, which TypeScript sees.
  ajvFormats.default(ajv);
  // Berth's "email" (formats.ts), in place of ajv-formats' one, which wants a dot in the domain.
  ajv.addFormat('email', { type: 'string', validate: isEmail });
  for (const schema of Object.values(externalSchemas)) ajv.addSchema(schema);
  return ajv;
}

function compile(ajv: Ajv, schema: { $id?: string }): ValidateFunction {
  // ajv refuses to compile a second schema with the same $id: reuse the first.
  return (schema.$id ? ajv.getSchema(schema.$id) : undefined) ?? ajv.compile(schema);
}

type BuildValidator = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator'];

interface Pair { schemas: object[]; body: Ajv; text: Ajv }

// Fastify asks for a new factory in every plugin that adds a schema, and a new
// Ajv compiles its meta-schema and formats each time: seconds per app start
// (2 of a test file's 13 s of CPU). Contexts sharing the very same schema
// objects share one pair; a different object under the same $id gets its own.
const pairs = new Map<string, Pair[]>();

function pairFor(externalSchemas: Record<string, object>): Pair {
  const ids = Object.keys(externalSchemas).sort();
  const schemas = ids.map((id) => externalSchemas[id]!);
  const key = ids.join('\n');
  const known = pairs.get(key) ?? [];
  const same = known.find((p) => p.schemas.every((s, i) => s === schemas[i]));
  if (same) return same;
  const pair = { schemas, body: instance(externalSchemas, false), text: instance(externalSchemas, 'array') };
  pairs.set(key, [...known, pair]);
  return pair;
}

export const buildValidator: BuildValidator = ((externalSchemas: Record<string, object>) => {
  const { body, text } = pairFor(externalSchemas);
  return ({ schema, httpPart }: { schema: { $id?: string }; httpPart?: string }) => compile(httpPart === 'body' ? body : text, schema);
}) as unknown as BuildValidator;
