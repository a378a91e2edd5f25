// The statuses every route answers because of its shape, added to its
// documented responses as routes are registered, so the OpenAPI document and
// the server cannot drift apart on them: a public route has no security
// requirement; any other answers 401, and 403 when it needs more than read;
// parameters, query and body are validated (400); a path parameter over
// fastify's maxParamLength is 414 before anything else runs; a body method
// parses JSON (400), refuses other media types (415) and bodies over the limit
// (413); and any route can fail unexpectedly (500). Each operation also names
// the token scope it needs, as x-berth-scope (public, read, write or admin).
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { ErrorCode } from '../errors.js';
import { addErrorCodes } from './schemas.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'QUERY']);

function shapeCodes(route: RouteOptions): ErrorCode[] {
  const schema = route.schema ?? {};
  const methods = [route.method].flat().map((m) => m.toUpperCase());
  const scope = route.config?.scope;
  const codes: ErrorCode[] = [];
  if (route.url.includes(':')) codes.push('VALIDATION_FAILED', 'URI_TOO_LONG');
  if (schema.querystring || schema.body || schema.params || schema.headers) codes.push('VALIDATION_FAILED');
  if (methods.some((m) => BODY_METHODS.has(m))) codes.push('VALIDATION_FAILED', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (scope !== 'public') codes.push('UNAUTHENTICATED');
  if (scope !== 'public' && scope !== 'read') codes.push('FORBIDDEN');
  codes.push('INTERNAL');
  return codes;
}

export function documentRouteShapes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide || route.websocket) return;
    const schema = (route.schema ??= {});
    const scope = route.config?.scope;
    if (scope === 'public') schema.security ??= [];
    // As auth.plugin.ts decides: no scope declared (or an unknown one) needs admin.
    (schema as Record<string, unknown>)['x-berth-scope'] = scope === 'public' || scope === 'read' || scope === 'write' ? scope : 'admin';
    const responses = (schema.response ??= {}) as Record<string, unknown>;
    addErrorCodes(responses, shapeCodes(route));
  });
}
