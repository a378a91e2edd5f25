// A private nginx for a test: Berth's main config rendered the way
// scripts/nginx-up does, into a temporary prefix, on a free loopback port.
// stop() signals the master by the pid it had at start (the prefix may be gone
// by then) and waits until it has really exited.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';
import { runningMasterPid } from '../../src/proxy/nginx-control.js';
import { until } from './wait.js';

const run = promisify(execFile);
export const NGINX_BIN = '/usr/sbin/nginx';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Alive and not a zombie (init here may never reap an exited nginx master). */
export async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

export interface TestNginx {
  home: string;
  prefix: string;
  confFile: string;
  /** The route control socket and the table file (berth_routes.lua). */
  controlSocket: string;
  tableFile: string;
  port: number;
  /** With TLS on: where HTTPS is served (the port above then redirects to it). */
  httpsPort: number;
  pid(): Promise<number>;
  stop(): Promise<void>;
}

/** TLS for a test's nginx: the settings scripts/nginx-edge reads (BERTH_TLS_MODE, ...), by name. */
export type EdgeEnv = Record<string, string>;

/**
 * scripts/nginx-edge, as scripts/nginx-up runs it: writes the listen and TLS
 * files nginx.conf includes (and with local-ca, the CA under <home>/tls).
 */
export async function renderEdge(home: string, env: EdgeEnv): Promise<void> {
  await run('bash', [path.join(ROOT_DIR, 'scripts/nginx-edge')], { env: { ...process.env, BERTH_HOME: home, ...env } });
}

export async function startNginx(home: string, options: { start?: boolean; edge?: EdgeEnv } = {}): Promise<TestNginx> {
  const port = await freePort();
  const httpsPort = await freePort();
  const prefix = path.join(home, 'nginx');
  const confFile = path.join(prefix, 'conf/nginx.conf');
  const control = path.join(prefix, 'control');
  for (const dir of ['conf', 'logs', 'tmp']) await mkdir(path.join(prefix, dir), { recursive: true });
  // Root only, as scripts/nginx-up makes it: the socket itself is 0666.
  await mkdir(control, { mode: 0o700 });
  await copyFile(path.join(ROOT_DIR, 'proxy-config/berth_routes.lua'), path.join(prefix, 'conf/berth_routes.lua'));
  // Workers run as nobody and write request bodies past their buffer (16 KB)
  // under tmp/: they must pass through a home made by mkdtemp (0700, else a
  // 500 for any upload). Traverse only: they still cannot list it.
  await chmod(home, 0o711);
  const template = await readFile(path.join(ROOT_DIR, 'proxy-config/nginx.conf'), 'utf8');
  await renderEdge(home, { BERTH_HTTP_PORT: String(port), BERTH_HTTPS_PORT: String(httpsPort), ...options.edge });
  await writeFile(confFile, template.replaceAll('__BERTH_HOME__', home).replaceAll('__BERTH_HTTP_PORT__', String(port)));
  const pidFile = path.join(prefix, 'nginx.pid');
  const pid = async () => Number((await readFile(pidFile, 'utf8')).trim());
  const controlSocket = path.join(control, 'control.sock');
  const tableFile = path.join(control, 'routes.table');
  let master = 0;
  if (options.start ?? true) {
    await run(NGINX_BIN, ['-p', `${prefix}/`, '-c', confFile]);
    // nginx returns once it has daemonized; the master writes its pid file a moment later.
    await until(async () => (master = (await runningMasterPid(pidFile)) ?? 0) > 0, 10_000, 'nginx to write its pid file', 20);
  }
  return {
    home, prefix, confFile, controlSocket, tableFile, port, httpsPort, pid,
    async stop() {
      // The master it started, and the one Berth's supervisor may have started
      // after a test killed that one.
      const now = await runningMasterPid(pidFile).catch(() => null);
      for (const pid of new Set([master, now ?? 0])) {
        if (!pid || !(await running(pid))) continue;
        process.kill(pid, 'SIGQUIT'); // graceful stop
        await until(async () => !(await running(pid)), 10_000, `nginx master ${pid} to exit`, 20);
      }
    }
  };
}
