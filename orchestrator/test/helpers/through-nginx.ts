// One request to a team's address the way its visitors send it: to the
// platform's nginx on 127.0.0.1 with the team's Host header, so nginx sets
// X-Forwarded-For and X-Forwarded-Proto as in production. node:http with a
// hard timeout: a request that gets no answer fails the test, naming itself,
// instead of leaving a promise pending while the event loop drains.
import http from 'node:http';
import type { TestPlatform } from './platform.js';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function throughNginx(
  tp: TestPlatform, slug: string, method: string, path: string,
  headers: Record<string, string> = {}, body?: Buffer | string, timeoutMs = 30_000
): Promise<Answer> {
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: tp.nginx.port, method, path, agent: false, timeout: timeoutMs,
      headers: { host: `${slug}.${tp.config.baseDomain}`, ...length, ...headers }
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} (${slug}): no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
