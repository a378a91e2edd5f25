import net from 'node:net';
import { BerthError } from '../errors.js';

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The lowest port of the range that no tenant records and nothing on the host
 * holds (another process, or a container published outside Berth). The
 * registry's unique index settles a race between two allocations.
 */
export async function allocatePort(range: { from: number; to: number }, used: Set<number>, skip: Set<number> = new Set()): Promise<number> {
  for (let port = range.from; port <= range.to; port++) {
    if (used.has(port) || skip.has(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new BerthError('PORT_EXHAUSTED', `every port in ${range.from}-${range.to} is taken; widen BERTH_PORT_RANGE`);
}

/**
 * Docker's answer when something outside this registry (another installation
 * on the engine, any process) bound a port between our check and its bind.
 */
export function isPortTaken(err: unknown): boolean {
  return /port is already allocated|address already in use/i.test((err as Error)?.message ?? '');
}
