// How many connections host processes (nginx's workers) hold open to a port
// on 127.0.0.1. nginx opens one upstream connection per proxied request
// (nginx.conf sets no upstream keepalive) and closes it when the response is
// done, so this is the number of requests, WebSockets and streams still in
// flight to an app's published port: what an upgrade waits on before it
// stops the old container.
//
// Asked of the kernel through `ss` (iproute2), whose filter runs in the
// kernel (sock_diag): only the matching open sockets come back. Reading
// /proc/net/tcp instead formats every socket on the host, the TIME_WAIT ones
// of every finished request included: with 20k of them (a minute of steady
// traffic) one read cost 20 ms of kernel time plus the parsing, and a drain
// reads every 50 ms.
import { execFile } from 'node:child_process';
import { BerthError } from '../errors.js';

/** Open client connections to 127.0.0.1:port (the other end of docker-proxy, or of the NAT rule). */
export function connectionsTo(port: number): Promise<number> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new BerthError('INTERNAL', `not a TCP port: ${port}`, { port });
  // SYN-SENT too: a connection nginx is opening will carry a request.
  const args = ['-Htn', 'state', 'established', 'state', 'syn-sent', `( dst 127.0.0.1:${port} or dst [::ffff:127.0.0.1]:${port} )`];
  return new Promise((resolve, reject) => {
    execFile('ss', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(new BerthError('INTERNAL', `could not count the connections to port ${port} (ss ${args.join(' ')}): ${err.message}`, { port }));
      resolve(stdout.split('\n').filter((line) => line.trim() !== '').length);
    });
  });
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
