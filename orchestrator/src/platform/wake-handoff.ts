// Where nginx hands a sleeping team's request (route kind `sleeping`,
// proxy-config/berth_routes.lua): to this orchestrator, with the original
// method, path and Host, and X-Berth-Wake naming the team (nginx sets it and
// drops any a client sent). Waking the team is the wake-on-request work to
// come; until then the request is answered 503 "waking" with Retry-After.
// An onRequest hook rather than a route: the path is the team's own.
import type { FastifyInstance } from 'fastify';
import { slugProblem } from '../contract/slug.js';

export const WAKE_HEADER = 'x-berth-wake';

export function installWakeHandoff(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const slug = request.headers[WAKE_HEADER];
    if (slug === undefined) return;
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8');
    if (typeof slug !== 'string' || slug.length > 32 || slugProblem(slug)) {
      return reply.status(400).send('X-Berth-Wake: not a tenant slug (3-32 characters of a-z, 0-9 and -)\n');
    }
    return reply.status(503).header('retry-after', '10').send(`${slug} is waking\n`);
  });
}
