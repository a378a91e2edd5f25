// How many connections host processes (nginx's workers) hold open to a port
// on 127.0.0.1, read from the kernel's socket tables (Linux /proc/net/tcp and
// tcp6). nginx opens one upstream connection per proxied request (nginx.conf
// sets no upstream keepalive) and closes it when the response is done, so
// this is the number of requests, WebSockets and streams still in flight to
// an app's published port: what an upgrade waits on before it stops the old
// container.
import { readFile } from 'node:fs/promises';

// TCP states (include/net/tcp_states.h): ESTABLISHED, SYN_SENT.
const OPEN_STATES = new Set(['01', '02']);
// 127.0.0.1 as the kernel prints it (little-endian hex), and as an IPv4-mapped IPv6 address.
const LOOPBACK = new Set(['0100007F', '0000000000000000FFFF00000100007F']);

async function table(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // no IPv6
    throw err;
  }
}

/** Open client connections to 127.0.0.1:port (the other end of docker-proxy, or of the NAT rule). */
export async function connectionsTo(port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of [...(await table('/proc/net/tcp')), ...(await table('/proc/net/tcp6'))]) {
    // "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT.
    const [, , remote, state] = line.trim().split(/\s+/);
    if (!remote || !state || !OPEN_STATES.has(state)) continue;
    const [ip, p] = remote.split(':');
    if (p === hexPort && ip && LOOPBACK.has(ip)) count++;
  }
  return count;
}

export interface DrainResult {
  drained: boolean;
  ms: number;
  /** Connections still open when it gave up (0 when drained). */
  open: number;
}

/**
 * Resolves once nothing has been connected to `port` for `quietMs` in a row,
 * or at the deadline with what was still open. The quiet period covers a
 * request an old nginx worker accepted just before it stopped accepting and
 * has not passed upstream yet.
 */
export async function waitDrained(port: number, options: { timeoutMs: number; quietMs?: number; intervalMs?: number }): Promise<DrainResult> {
  const started = Date.now();
  const quietMs = options.quietMs ?? 300;
  const interval = options.intervalMs ?? 50;
  let quietSince: number | undefined;
  for (;;) {
    const open = await connectionsTo(port);
    const now = Date.now();
    if (open === 0) {
      quietSince ??= now;
      if (now - quietSince >= quietMs) return { drained: true, ms: now - started, open: 0 };
    } else {
      quietSince = undefined;
    }
    if (now - started >= options.timeoutMs) return { drained: false, ms: now - started, open };
    await new Promise((r) => setTimeout(r, interval));
  }
}
