// One place maps errors to HTTP: BerthError keeps its code and status; schema
// validation failures become 400 VALIDATION_FAILED naming the field; anything
// else is a 500 whose details stay in the log, never in the response.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BerthError } from '../errors.js';

/**
 * fastify's router answers a path segment longer than maxParamLength (414) or
 * a bad %-escape (400) before any route runs, by default echoing the whole
 * path back; this answers in our shape instead, naming what to fix.
 */
export const frameworkErrors = (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const message = tooLong
    ? 'a segment of the URL path is longer than any name or id here can be (100 characters); check the URL'
    : 'the URL path is malformed (a bad %-escape); check the URL';
  void reply.status(tooLong ? 414 : 400).send({ error: { code: 'VALIDATION_FAILED', message } });
};

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

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | BerthError, request, reply) => {
    if (err instanceof BerthError) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      const first = fe.validation[0];
      const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
      const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : params.missingProperty;
      const message = first?.keyword === 'additionalProperties' && params.additionalProperty
        ? `${where}${field ? `.${field}` : ''}.${params.additionalProperty} is not a field this accepts; remove it`
        : `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is invalid'}${hint(first?.keyword)}`;
      return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message } });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = app.initialConfig.bodyLimit ?? 0;
      return reply.status(413).send({ error: { code: 'VALIDATION_FAILED', message: `the request body is larger than the ${Math.round(limit / 1024)} KB this API accepts; no field needs that much, so shorten the values sent` } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      // fastify's own client errors: bad JSON, wrong content type, body too large.
      return reply.status(fe.statusCode).send({ error: { code: 'VALIDATION_FAILED', message: fe.message } });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the orchestrator log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } })
  );
}
