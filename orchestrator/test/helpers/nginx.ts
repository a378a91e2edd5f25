// A private nginx for a test: Berth's main config rendered into a temporary
// prefix, on a free loopback port, stopped (SIGQUIT) in teardown.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';

const run = promisify(execFile);
export const NGINX_BIN = '/usr/sbin/nginx';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestNginx {
  home: string;
  prefix: string;
  confFile: string;
  routesDir: string;
  port: number;
  pid(): Promise<number>;
  stop(): Promise<void>;
}

export async function startNginx(home: string): Promise<TestNginx> {
  const port = await freePort();
  const prefix = path.join(home, 'nginx');
  const confFile = path.join(prefix, 'conf/nginx.conf');
  const routesDir = path.join(prefix, 'routes');
  for (const dir of ['conf', 'logs', 'routes', 'tmp']) await mkdir(path.join(prefix, dir), { recursive: true });
  const template = await readFile(path.join(ROOT_DIR, 'proxy-config/nginx.conf'), 'utf8');
  await writeFile(confFile, template.replaceAll('__BERTH_HOME__', home).replaceAll('__BERTH_HTTP_PORT__', String(port)));
  await run(NGINX_BIN, ['-p', `${prefix}/`, '-c', confFile]);
  const pid = async () => Number((await readFile(path.join(prefix, 'nginx.pid'), 'utf8')).trim());
  return {
    home, prefix, confFile, routesDir, port, pid,
    async stop() {
      const p = await pid().catch(() => 0);
      if (p) {
        try {
          process.kill(p, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
  };
}
