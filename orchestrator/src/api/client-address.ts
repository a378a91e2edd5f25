// Who is asking, for per-address limits. The console calls the API from its
// own server on the browser's behalf and says whom for in X-Forwarded-For;
// that header is believed only from the configured proxies (by default the
// loopback addresses the console uses), never from anyone else.
import { isIPv4, isIPv6 } from 'node:net';
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

/**
 * The key a per-address limit counts under: an IPv4 address as it is (an
 * IPv4-mapped IPv6 one as its IPv4), an IPv6 address by its /64, because one
 * subscriber usually holds a whole /64 and could otherwise take a fresh
 * address for every try (RFC 6177 recommends /48 to /64 per site).
 */
export function addressKey(address: string): string {
  const ip = address.slice(0, 64).replace(/%.*$/, ''); // a zone id (fe80::1%eth0) names no other host
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return address.slice(0, 64);
  // The URL parser writes an IPv6 address in one canonical, compressed form.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [left = '', right] = canonical.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6]!, 16), parseInt(groups[7]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The limit key of the request's client: its address (see clientIp) by addressKey. */
export function clientKey(request: FastifyRequest, trustedProxies: readonly string[]): string {
  return addressKey(clientIp(request, trustedProxies));
}
