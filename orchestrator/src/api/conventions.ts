// What every Berth API app is, before its routes: the limits and request
// validation it is built with, the shared Error schema, the one error handler,
// and the statuses each route documents from its shape. platform/app.ts builds the
// API with these; tests that build a smaller app use the same.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { frameworkErrors, installErrorHandler } from './error-handler.js';
import { documentRouteShapes } from './route-docs.js';
import { errorSchema } from './schemas.js';
import { buildValidator } from './validators.js';

export const BODY_LIMIT = 64 * 1024;
/** Path parameters (ids, slugs: at most 64 characters) longer than this are 414 URI_TOO_LONG. */
export const MAX_PARAM_LENGTH = 100;

export const API_DESCRIPTION = [
  'Errors are always {"error": {"code", "message"}}; each response lists the codes behind its status.',
  `Request bodies are at most ${BODY_LIMIT / 1024} KiB (413 BODY_TOO_LARGE); a path parameter over ${MAX_PARAM_LENGTH} characters is 414 URI_TOO_LONG,`,
  'answered before authentication. A method a path does not have is 405 METHOD_NOT_ALLOWED with an Allow header.'
].join(' ');

export const serverOptions: FastifyServerOptions = {
  bodyLimit: BODY_LIMIT,
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors,
  schemaController: { compilersFactory: { buildValidator } }
};

/** Call first, before any route is registered. */
export function installConventions(app: FastifyInstance): void {
  app.addSchema(errorSchema);
  installErrorHandler(app);
  documentRouteShapes(app);
}
