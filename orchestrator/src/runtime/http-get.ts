import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * GET with a hard timeout, on node:http rather than fetch: Node 20's fetch can
 * leave its promise pending forever when docker-proxy accepts a connection and
 * resets it before the container listens (seen while an app starts), which
 * lets the event loop drain mid-wait.
 */
export function httpGet(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65536) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
