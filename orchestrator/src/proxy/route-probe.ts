// After a reload, asks Berth's nginx (on 127.0.0.1 only) which route answers
// a tenant's host. `nginx -s reload` returns before the master has applied the
// new configuration, and until it has, the old workers answer with the old
// routes; so we poll, with a deadline, until the answer shows the change.
import http from 'node:http';

/** Answered by nginx itself in every route file (proxy-config/route.conf). */
export const PROBE_PATH = '/__berth/route';

export interface RouteSeen {
  status: number;
  /** X-Berth-Route: the slug whose server block answered; absent for the default server. */
  route: string | undefined;
  /** X-Berth-Revision: which rendering of that route file answered. */
  revision: string | undefined;
}

// node:http rather than fetch, for the reason in runtime/http-get.ts; that
// helper returns no headers, and the headers are what we need here.
function askOnce(port: number, host: string, timeoutMs: number): Promise<RouteSeen> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: PROBE_PATH, headers: { host }, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const one = (name: string) => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      res.on('end', () => resolve({ status: res.statusCode ?? 0, route: one('x-berth-route'), revision: one('x-berth-revision') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export interface ProbeOptions {
  port: number;
  host: string;
  timeoutMs: number;
  /** true: the change serves. */
  accept: (seen: RouteSeen) => boolean;
  /** true: a later change of the same route took over; stop without judging. */
  superseded?: () => boolean;
}

/** Resolves with undefined once accepted, or with what was last seen when the deadline passes. */
export async function waitForRoute(o: ProbeOptions): Promise<string | undefined> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 'no answer yet';
  for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
    if (o.superseded?.()) return undefined;
    const left = deadline - Date.now();
    try {
      const seen = await askOnce(o.port, o.host, Math.max(50, left));
      if (o.accept(seen)) return undefined;
      last = `HTTP ${seen.status}, X-Berth-Route ${seen.route ?? '(none)'}, X-Berth-Revision ${seen.revision ?? '(none)'}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() + pause > deadline) return last;
    await new Promise((r) => setTimeout(r, pause));
  }
}
