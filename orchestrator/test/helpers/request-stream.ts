// A steady stream of GET requests to one tenant through Berth's nginx (on
// 127.0.0.1, with the tenant's Host header), half over kept-alive
// connections and half on a new connection each, counting every answer that
// is not a 200 and every request that got no answer. node:http only (no
// dependency). Bounded: it stops on stop() or after maxMs, whichever is first.
//
// No retry at all: a GET sent on a kept-alive connection that the server
// closed under it (no answer, ECONNRESET/EPIPE) is a failed request, and is
// also counted apart as a reset. Route changes no longer reload nginx (which
// closed idle kept-alive connections), so a reset is a defect to see.
import http from 'node:http';

export interface StreamReport {
  total: number;
  ok: number;
  /** Non-200 answers and requests without an answer. */
  failed: number;
  failures: string[];
  /** Requests on a kept-alive connection the server closed under them (no answer); each is also in `failed`. */
  resets: number;
  /** Requests sent again after a reset: the stream never retries, so always 0 (printed and asserted as the issue asks). */
  retried: 0;
  /** How many 200s each version (the body of /version) answered. */
  versions: Record<string, number>;
  seconds: number;
}

export interface RequestStream {
  report(): StreamReport;
  stop(): Promise<StreamReport>;
}

export function startStream(o: { port: number; host: string; path?: string; lanes?: number; pauseMs?: number; maxMs?: number; timeoutMs?: number }): RequestStream {
  const lanes = o.lanes ?? 4;
  const path = o.path ?? '/version';
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Math.ceil(lanes / 2) });
  const started = performance.now();
  const deadline = Date.now() + (o.maxMs ?? 300_000);
  const r: StreamReport = { total: 0, ok: 0, failed: 0, failures: [], resets: 0, retried: 0, versions: {}, seconds: 0 };
  let running = true;

  const once = (agent: http.Agent | false) =>
    new Promise<void>((resolve) => {
      r.total++;
      let answered = false;
      const fail = (why: string) => {
        r.failed++;
        if (r.failures.length < 20) r.failures.push(`${new Date().toISOString()} ${agent ? 'keep-alive' : 'new connection'}: ${why}`);
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port: o.port, path, headers: { host: o.host }, agent, timeout: o.timeoutMs ?? 10_000 }, (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode} ${body.slice(0, 120)}`);
          r.ok++;
          let version = 'unknown';
          try {
            version = String((JSON.parse(body) as { version?: string }).version ?? 'unknown');
          } catch {
            // not /version: count it as an answer all the same
          }
          r.versions[version] = (r.versions[version] ?? 0) + 1;
          resolve();
        });
        res.on('error', (err) => fail(err.message));
      });
      req.on('timeout', () => req.destroy(new Error('no answer in time')));
      req.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        const reset = !answered && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
        if (reset) r.resets++;
        fail(`${reset ? 'reset of a kept-alive connection: ' : ''}${code} ${err.message}`);
      });
    });

  const lane = async (agent: http.Agent | false) => {
    while (running && Date.now() < deadline) {
      await once(agent);
      if (o.pauseMs) await new Promise((res) => setTimeout(res, o.pauseMs));
    }
  };
  const all = Promise.all(Array.from({ length: lanes }, (_, i) => lane(i % 2 === 0 ? keepAlive : false)));
  const report = () => ({ ...r, versions: { ...r.versions }, failures: [...r.failures], seconds: (performance.now() - started) / 1000 });
  return {
    report,
    async stop() {
      running = false;
      await all;
      keepAlive.destroy();
      return report();
    }
  };
}
