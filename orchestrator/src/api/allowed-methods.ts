// A known path asked with a method it does not have answers 405 with an Allow
// header (RFC 9110 §15.5.6), not 404; OPTIONS answers 204 with the same
// Allow. fastify's router knows only routes, so each path gets one more route
// for its other methods, answered in onRequest: before authentication matters
// (scope public: the methods of a path are in the public API document anyway)
// and before any body is read.
import type { FastifyInstance } from 'fastify';
import { BerthError } from '../errors.js';

export interface MethodsByPath {
  /** Call after every route is registered. */
  answerOthers(): void;
}

/** Starts collecting routes; call before registering them. */
export function collectMethods(app: FastifyInstance): MethodsByPath {
  const byPath = new Map<string, Set<string>>();
  let collecting = true;
  app.addHook('onRoute', (route) => {
    if (!collecting) return;
    const methods = byPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
    // fastify answers HEAD on every GET route (exposeHeadRoutes).
    if (methods.has('GET')) methods.add('HEAD');
    byPath.set(route.url, methods);
  });
  return {
    answerOthers() {
      collecting = false;
      for (const [url, methods] of byPath) {
        const allow = [...methods, 'OPTIONS'].sort().join(', ');
        const others = app.supportedMethods.filter((m) => !methods.has(m));
        if (others.length === 0) continue;
        app.route({
          method: others,
          url,
          config: { scope: 'public' },
          schema: { hide: true },
          onRequest: async (request, reply) => {
            reply.header('allow', allow);
            if (request.method === 'OPTIONS') return reply.status(204).send();
            throw new BerthError('METHOD_NOT_ALLOWED', `${url.replace(/:(\w+)/g, '{$1}')} has no ${request.method}; it answers ${allow}`);
          },
          handler: async () => undefined
        });
      }
    }
  };
}
