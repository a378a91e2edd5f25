// One place maps errors to HTTP, always in Berth's shape {error: {code,
// message}}: BerthError keeps its code and status; schema validation failures
// become 400 VALIDATION_FAILED naming the field and its rule; fastify's own
// refusals (bad JSON, media type, body size, an over-long or malformed URL)
// get codes of their own; anything else is a 500 whose details stay in the
// log, never in the response.
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

/** "body.slug must match pattern …; <the field's own description of its rule>". */
export function validationMessage(where: string, errors: AjvError[]): string {
  // A failed oneOf also reports why each branch failed; the oneOf itself says what was meant.
  const first = errors.find((e) => e.keyword === 'oneOf') ?? errors[0];
  const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (first?.params.missingProperty as string | undefined);
  const rule = first?.keyword === 'required' ? undefined : first?.parentSchema?.description;
  const what = first ? describe(first) : 'is invalid';
  return `${where}${path ? `.${path}` : ''} ${what}${rule ? ` (${rule})` : ''}`;
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

export function installErrorHandler(app: FastifyInstance): void {
  const bodyLimitKiB = Math.round(app.initialConfig.bodyLimit! / 1024);
  app.setErrorHandler((err: FastifyError | BerthError, request, reply) => {
    if (err instanceof BerthError) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const message = validationMessage(fe.validationContext ?? 'request', fe.validation as AjvError[]);
      return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = BY_STATUS[fe.statusCode] ?? 'VALIDATION_FAILED';
      const message = code === 'BODY_TOO_LARGE' ? `the request body is over ${bodyLimitKiB} KiB` : fe.message;
      return reply.status(fe.statusCode).send({ error: { code, message } });
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
 * percent-encoding), in Berth's shape rather than fastify's own.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, _request, reply: FastifyReply) => {
  const { code, message } = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? { code: 'URI_TOO_LONG' as const, message: 'a path parameter is too long: ids and slugs are at most 64 characters' }
    : err.code === 'FST_ERR_BAD_URL'
      ? { code: 'VALIDATION_FAILED' as const, message: 'the URL is malformed (bad percent-encoding)' }
      : { code: 'INTERNAL' as const, message: 'internal error; see the orchestrator log' };
  void reply.status(ErrorCodes[code].status).send({ error: { code, message } });
};
