// Checks every reply against the response schema its route declares, on the
// payload the handler made: fastify's serializer drops fields the schema does
// not name and fails only on some wrong types, so checking what went over the
// wire would miss most drift. The payload is JSON round-tripped first (Dates
// become strings, as the serializer makes them), then validated by a strict
// Ajv against the contract's schemas, which close every object
// (additionalProperties: false): an extra, missing or mistyped field fails.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as contract from '../../src/contract/index.js';

export interface Violation {
  route: string;
  status: number;
  errors: string;
}

type Schema = Record<string, unknown>;

export function replyChecker() {
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  // fastify-swagger keywords and the OpenAPI-only shapes routes use.
  ajv.addKeyword('tags').addKeyword('summary').addKeyword('hide');
  addFormats.default(ajv);
  for (const s of [contract.errorSchema, contract.tenants.tenantSchema, contract.upgrades.jobSchema, contract.onboarding.signupSchema,
    contract.operators.operatorSchema, contract.templates.templateSchema, contract.tenantStatsSchema, contract.audit.auditEntrySchema,
    contract.tokens.tokenInfoSchema]) ajv.addSchema(s);
  const compiled = new WeakMap<Schema, ValidateFunction>();
  const validator = (schema: Schema) => {
    let v = compiled.get(schema);
    if (!v) compiled.set(schema, (v = ajv.compile(schema)));
    return v;
  };
  const violations: Violation[] = [];
  const checked: string[] = [];

  /** The errors of `payload` against `schema`, or undefined when it fits. */
  function check(schema: Schema, payload: unknown): string | undefined {
    const v = validator(schema);
    return v(JSON.parse(JSON.stringify(payload ?? null))) ? undefined : ajv.errorsText(v.errors);
  }

  function hook(request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
    const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, Schema>;
    let schema = responses[String(reply.statusCode)];
    const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
    if (!schema) return;
    const content = schema.content as Record<string, { schema: Schema }> | undefined;
    if (content) schema = content['application/json']?.schema;
    if (!schema || typeof payload === 'string' || Buffer.isBuffer(payload)) return;
    checked.push(`${route} ${reply.statusCode}`);
    const errors = check(schema, payload);
    if (errors) violations.push({ route, status: reply.statusCode, errors });
  }

  return { hook, check, violations, checked };
}
