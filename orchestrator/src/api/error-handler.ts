// One place maps errors to HTTP: BerthError keeps its code and status; schema
// validation failures become 400 VALIDATION_FAILED naming the field; anything
// else is a 500 whose details stay in the log, never in the response.
import type { FastifyError, FastifyInstance } from 'fastify';
import { BerthError } from '../errors.js';

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
      const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (first?.params as { missingProperty?: string })?.missingProperty;
      const message = `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is invalid'}`;
      return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message } });
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
