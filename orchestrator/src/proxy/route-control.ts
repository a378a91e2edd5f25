// The client of nginx's route control server (berth_routes.lua M.control): plain
// HTTP over the unix socket under BERTH_HOME, which only root can reach. A
// refused entry comes back 400 "<field>: <problem>"; a socket nobody listens
// on (nginx down or restarting) is retried until the deadline, since Berth's
// supervisor brings nginx back within a second or two.
import http from 'node:http';
import { BerthError } from '../errors.js';

export interface ControlAnswer {
  status: number;
  body: string;
}

function once(socketPath: string, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, agent: false, timeout: timeoutMs, headers: { host: 'berth-control', 'content-length': Buffer.byteLength(body ?? '') } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

// nginx not listening (yet): its socket file is missing or nobody accepts on it.
const DOWN = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

export async function control(socketPath: string, method: string, path: string, body: string | undefined, deadlineMs: number): Promise<ControlAnswer> {
  const deadline = Date.now() + deadlineMs;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    try {
      return await once(socketPath, method, path, body, Math.max(100, deadline - Date.now()));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!DOWN.has(code) || Date.now() + pause > deadline) {
        throw new BerthError('PROXY_CONTROL_FAILED', `nginx's route control at ${socketPath} did not answer ${method} ${path} within ${deadlineMs} ms: ${(err as Error).message}`, {}, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}
