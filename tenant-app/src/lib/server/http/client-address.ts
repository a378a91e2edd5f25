// Who is asking, for per-address sign-in limits. Berth's nginx is the only
// way in (the app's port is published on the host's loopback only) and it
// sets X-Forwarded-For to the peer it saw, replacing whatever the client
// sent; adapter-node reads it (ADDRESS_HEADER, set in the Dockerfile). A
// request that did not come through nginx has no such header: it counts as
// "direct".
import { isIPv4, isIPv6 } from 'node:net';
import type { RequestEvent } from '@sveltejs/kit';

export function clientAddress(event: Pick<RequestEvent, 'getClientAddress'>): string {
  try {
    return event.getClientAddress();
  } catch {
    return 'direct';
  }
}

/**
 * The key an address is limited under: IPv4 as it is (IPv4-mapped IPv6 as
 * IPv4), IPv6 by its /64, which one subscriber usually holds whole (the same
 * rule as the orchestrator's api/client-address.ts).
 */
export function addressKey(address: string): string {
  const ip = address.slice(0, 64).replace(/%.*$/, '');
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return address.slice(0, 64);
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
