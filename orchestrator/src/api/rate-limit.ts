// One shape for every per-address or per-email limit: @fastify/rate-limit
// counts (in memory, per process), and an exceeded one answers 429
// RATE_LIMITED with Retry-After and a sentence saying how long to wait.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BerthError } from '../errors.js';

export type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** A preHandler/onRequest hook: 429 RATE_LIMITED with Retry-After once `check` is exceeded. */
export function limit(check: Limiter, what: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    reply.header('retry-after', String(result.ttlInSeconds));
    throw new BerthError('RATE_LIMITED', `too many ${what}: at most ${result.max} per ${Math.round(result.timeWindow / 1000)} s; try again in ${result.ttlInSeconds} s`);
  };
}
