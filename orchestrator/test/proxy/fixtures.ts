// Test fixtures for the route manager: a private nginx (Berth's main config
// rendered into a t.testdir prefix, on a free loopback port, stopped with
// SIGQUIT in teardown), an upstream app that also speaks HTTP Upgrade, and a
// small HTTP client that returns headers. Traffic goes to 127.0.0.1 only.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';
import { runningMasterPid } from '../../src/proxy/nginx-control.js';

const run = promisify(execFile);
export const NGINX_BIN = '/usr/sbin/nginx';

type Teardown = { teardown(fn: () => unknown): void };

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` until it is truthy, with a deadline (no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestNginx {
  home: string;
  prefix: string;
  confFile: string;
  routesDir: string;
  port: number;
  pid(): Promise<number>;
}

/** Renders proxy-config/nginx.conf the way scripts/nginx-up does; starts nginx unless `start` is false. */
export async function startNginx(t: Teardown, home: string, start = true): Promise<TestNginx> {
  const port = await freePort();
  const prefix = path.join(home, 'nginx');
  const confFile = path.join(prefix, 'conf/nginx.conf');
  const routesDir = path.join(prefix, 'routes');
  for (const dir of ['conf', 'logs', 'routes', 'tmp']) await mkdir(path.join(prefix, dir), { recursive: true });
  const template = await readFile(path.join(ROOT_DIR, 'proxy-config/nginx.conf'), 'utf8');
  await writeFile(confFile, template.replaceAll('__BERTH_HOME__', home).replaceAll('__BERTH_HTTP_PORT__', String(port)));
  const pidFile = path.join(prefix, 'nginx.pid');
  const pid = async () => Number((await readFile(pidFile, 'utf8')).trim());
  if (start) {
    await run(NGINX_BIN, ['-p', `${prefix}/`, '-c', confFile]);
    // nginx returns once it has daemonized; the master writes its pid file a moment later.
    let master = 0;
    await until(async () => (master = (await runningMasterPid(pidFile)) ?? 0) > 0, 10_000, 'nginx to write its pid file');
    t.teardown(async () => {
      // SIGQUIT: graceful stop; then wait, bounded, for the master to be gone
      // (runningMasterPid counts an unreaped zombie as gone).
      if ((await runningMasterPid(pidFile)) === master) process.kill(master, 'SIGQUIT');
      await until(async () => (await runningMasterPid(pidFile)) !== master, 10_000, `nginx master ${master} to exit`);
    });
  }
  return { home, prefix, confFile, routesDir, port, pid };
}

export interface Upstream {
  port: number;
  /** Headers of the last plain request it answered. */
  lastHeaders: http.IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

/** An app on 127.0.0.1:0: answers "hello from <name>", and upgrades to an echo tunnel. */
export async function startUpstream(t: Teardown, name: string): Promise<Upstream> {
  const up: Upstream = { port: 0, lastHeaders: undefined, close: async () => {} };
  const server = http.createServer((req, res) => {
    up.lastHeaders = req.headers;
    req.resume();
    res.end(`hello from ${name}\n`);
  });
  // A hand-written 101, as a WebSocket server would send, then echo bytes.
  server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as net.AddressInfo).port;
  let closed = false;
  up.close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  t.teardown(() => up.close());
  return up;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to nginx on 127.0.0.1 with a Host header, with a hard timeout. */
export function request(port: number, host: string, opts: { path?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: false, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      }
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5000 ms')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends an HTTP Upgrade through nginx; resolves with the status and what the tunnel echoed. */
export function upgradeThrough(port: number, host: string): Promise<{ status: number; echoed: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/socket', headers: { host, Connection: 'Upgrade', Upgrade: 'websocket' }, agent: false, timeout: 5000 });
    req.on('upgrade', (res, socket) => {
      socket.setTimeout(5000, () => {
        socket.destroy();
        reject(new Error('the tunnel echoed nothing within 5000 ms'));
      });
      socket.once('data', (d: Buffer) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, echoed: d.toString() });
      });
      socket.write('ping through nginx');
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, echoed: '' });
    });
    req.on('timeout', () => req.destroy(new Error('no upgrade within 5000 ms')));
    req.on('error', reject);
    req.end();
  });
}
