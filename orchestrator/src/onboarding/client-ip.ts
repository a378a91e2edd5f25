// Who is asking, for per-address limits. The console calls the API from its
// own server on the browser's behalf and says whom for in X-Forwarded-For;
// that header is believed only from the configured proxies (by default the
// loopback addresses the console uses), never from anyone else.
import type { FastifyRequest } from 'fastify';

export function clientIp(request: FastifyRequest, trustedProxies: readonly string[]): string {
  // No socket: a request injected in-process (tests, injectWS).
  const peer = request.socket?.remoteAddress ?? request.ip ?? 'in-process';
  const forwarded = request.headers['x-forwarded-for'];
  if (!trustedProxies.includes(peer) || typeof forwarded !== 'string') return peer;
  // The last hop is the one the trusted proxy itself saw; earlier ones are the client's word.
  const hops = forwarded.split(',').map((h) => h.trim()).filter((h) => h !== '');
  return hops[hops.length - 1] ?? peer;
}
