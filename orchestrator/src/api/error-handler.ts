// One place maps errors to HTTP, always in Berth's shape {error: {code,
// message}}, each message naming the field and saying what to do: BerthError
// keeps its code and status; schema validation failures become 400
// VALIDATION_FAILED naming the field and its rule; fastify's own refusals (bad
// JSON, media type, body size, an over-long or malformed URL) get codes of
// their own; anything else is a 500 whose details stay in the log, never in
// the response.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { BerthError, ErrorCodes, type ErrorCode } from '../errors.js';

/** fastify's client errors that have a code of their own here; the rest are VALIDATION_FAILED. */
const BY_STATUS: Record<number, ErrorCode> = { 413: 'BODY_TOO_LARGE', 414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE' };

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string };
}

/**
 * "body.slug must match pattern … (<the field's own description of its
 * rule>); <what to do>".
 */
export function validationMessage(where: string, errors: AjvError[]): string {
  // A failed oneOf also reports why each branch failed; the oneOf itself says what was meant.
  const first = errors.find((e) => e.keyword === 'oneOf') ?? errors[0];
  const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (first?.params.missingProperty as string | undefined);
  const field = `${where}${path ? `.${path}` : ''}`;
  const extra = first?.keyword === 'additionalProperties' ? first.params.additionalProperty : undefined;
  if (typeof extra === 'string') return `${field}.${extra} is not a field this accepts; remove it`;
  const rule = first?.keyword === 'required' ? undefined : first?.parentSchema?.description;
  const what = first ? describe(first) : 'is invalid';
  return `${field} ${what}${rule ? ` (${rule})` : ''}${hint(first?.keyword)}`;
}

function describe(error: AjvError): string {
  // ajv says "must NOT be valid" for a `not`: the rule in the description says what is excluded.
  if (error.keyword === 'not') return 'is not allowed';
  if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) {
    const values = error.params.allowedValues as unknown[];
    return `must be one of: ${values.slice(0, 20).join(', ')}${values.length > 20 ? ', …' : ''}`;
  }
  return error.message ?? 'is invalid';
}

/** What to do about a schema keyword that failed, after the validator's own words. */
function hint(keyword: string | undefined): string {
  switch (keyword) {
    case 'maxLength':
    case 'maxItems':
      return '; shorten it';
    case 'pattern':
    case 'format':
      return '; see the OpenAPI document (/api/v1/openapi.json) for the form it takes';
    case 'required':
      return '; add it';
    default:
      return '';
  }
}

/** fastify's own refusals (fe.message) as sentences that say what to do. */
function clientErrorMessage(code: ErrorCode, fe: FastifyError, bodyLimitKiB: number): string {
  switch (code) {
    case 'BODY_TOO_LARGE':
      return `the request body is larger than the ${bodyLimitKiB} KiB this API accepts; no field needs that much, so shorten the values sent`;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return `${fe.message}; send the body as application/json`;
    default:
      return fe.message;
  }
}

/** A host with no room now may have some in a minute: teams go to sleep, starts end. */
const CAPACITY_RETRY_SECONDS = 60;

export function installErrorHandler(app: FastifyInstance): void {
  const bodyLimitKiB = Math.round(app.initialConfig.bodyLimit! / 1024);
  app.setErrorHandler((err: FastifyError | BerthError, request, reply) => {
    if (err instanceof BerthError) {
      if (err.status >= 500 && err.code !== 'CAPACITY') request.log.error({ err }, err.message);
      // A refusal that passes with time says when to ask again (RFC 9110 10.2.3).
      const retryAfter = err.details?.retryAfterSeconds ?? (err.code === 'CAPACITY' ? CAPACITY_RETRY_SECONDS : undefined);
      if (typeof retryAfter === 'number' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter));
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const message = validationMessage(fe.validationContext ?? 'request', fe.validation as AjvError[]);
      return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = BY_STATUS[fe.statusCode] ?? 'VALIDATION_FAILED';
      return reply.status(fe.statusCode).send({ error: { code, message: clientErrorMessage(code, fe, bodyLimitKiB) } });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the orchestrator log' } });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(notFound(request)));
  // Answer an unknown path at once: otherwise fastify would first read and
  // parse its body, refusing a bad one with a 400 or 415 instead of the 404.
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === undefined) return reply.status(404).send(notFound(request));
  });
}

function notFound(request: FastifyRequest) {
  return { error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } };
}

/**
 * For fastify's frameworkErrors option: refusals its router makes before any
 * route or hook runs (a path parameter over maxParamLength, a malformed
 * percent-encoding), in Berth's shape rather than fastify's own, which echoes
 * the whole path back.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, _request, reply: FastifyReply) => {
  const { code, message } = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    // 100: conventions.ts MAX_PARAM_LENGTH (which imports this module).
    ? { code: 'URI_TOO_LONG' as const, message: 'a segment of the URL path is longer than any name or id here can be (100 characters; ids and slugs are at most 64); check the URL' }
    : err.code === 'FST_ERR_BAD_URL'
      ? { code: 'VALIDATION_FAILED' as const, message: 'the URL path is malformed (a bad %-escape); check the URL' }
      : { code: 'INTERNAL' as const, message: 'internal error; see the orchestrator log' };
  void reply.status(ErrorCodes[code].status).send({ error: { code, message } });
};
