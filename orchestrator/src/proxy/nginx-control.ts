// The one place that runs the nginx binary (start, `nginx -t`) or looks for its
// processes, always with Berth's own prefix and config (never /etc/nginx), as
// an argv array (never a shell string), with a timeout and nginx's stderr captured.
import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface NginxTarget {
  bin: string;
  /** nginx's -p; a trailing slash is added, nginx joins paths onto it as text. */
  prefix: string;
  confFile: string;
  timeoutMs?: number;
}

export type NginxResult =
  | { ok: true; output: string; ms: number }
  | { ok: false; output: string; ms: number; reason: 'failed' | 'timeout' | 'not-run' };

function runNginx(target: NginxTarget, extra: string[]): Promise<NginxResult> {
  const prefix = target.prefix.endsWith('/') ? target.prefix : `${target.prefix}/`;
  const args = ['-p', prefix, '-c', target.confFile, ...extra];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(target.bin, args, { timeout: target.timeoutMs ?? 15_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const ms = performance.now() - started;
      // nginx reports on stderr, success included ("syntax is ok").
      const output = `${stderr}${stdout}`.trim();
      if (!err) return resolve({ ok: true, output, ms });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.killed) return resolve({ ok: false, output: output || `nginx ${extra.join(' ')} did not finish`, ms, reason: 'timeout' });
      if (typeof e.code === 'string') return resolve({ ok: false, output: `cannot run ${target.bin}: ${e.message}`, ms, reason: 'not-run' });
      resolve({ ok: false, output: output || e.message, ms, reason: 'failed' });
    });
  });
}

/** `nginx -t`: parses the main configuration (routes are data, not configuration). */
export function testConfig(target: NginxTarget): Promise<NginxResult> {
  return runNginx(target, ['-t']);
}

/** Starts a master; nginx returns once it has daemonized (the pid file follows a moment later). */
export function startMaster(target: NginxTarget): Promise<NginxResult> {
  return runNginx(target, []);
}

/** The master's pid when one runs, or null (no pid file, or a stale one). */
export async function runningMasterPid(pidFile: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user; it is still running.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  // kill(pid, 0) also succeeds for a zombie (a master that exited but whose
  // parent, often init in a container, has not reaped it) and for an unrelated
  // process that reused a stale pid; /proc tells both apart.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return pid; // no /proc: trust kill(0)
  if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return null;
  const title = await processTitle(pid);
  return title === null || title.startsWith('nginx: master process') ? pid : null;
}

/**
 * nginx processes holding the unix socket at `socketPath` open: after its
 * master was killed (SIGKILL), the workers live on as orphans, still holding
 * the listening sockets, so a new master could not bind them. The control
 * socket's path is unique to one Berth home, which tells them from the
 * workers of any other nginx on the machine. Linux /proc.
 */
export async function socketHolders(socketPath: string): Promise<number[]> {
  const inodes = new Set<string>();
  // "Num RefCount Protocol Flags Type St Inode Path"
  for (const line of (await readFile('/proc/net/unix', 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f.slice(7).join(' ') === socketPath) inodes.add(`socket:[${f[6]}]`);
  }
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const title = await processTitle(Number(name));
    if (!title?.startsWith('nginx:')) continue;
    const fds = await readdir(`/proc/${name}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if (inodes.has(await readlink(`/proc/${name}/fd/${fd}`).catch(() => ''))) {
        out.push(Number(name));
        break;
      }
    }
  }
  return out;
}

async function processTitle(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
  } catch {
    return null; // exited meanwhile
  }
}
