// The one place that runs the nginx binary (`nginx -t`) or signals its master
// (reload), always with Berth's own prefix and config (never /etc/nginx), as
// an argv array (never a shell string), with a timeout and nginx's stderr captured.
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';

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

/** `nginx -t`: parses the whole configuration, route files included. */
export function testConfig(target: NginxTarget): Promise<NginxResult> {
  return runNginx(target, ['-t']);
}

/**
 * Reload: SIGHUP to the master, which starts workers on the new configuration
 * and lets old ones finish in-flight requests. This is all `nginx -s reload`
 * does, but that command first parses the whole configuration, every route
 * file, only to find the pid file (nginx.c runs ngx_init_cycle before
 * ngx_signal_process): with 1,000 routes a third full parse per change, after
 * `nginx -t` and before the master's own. Pass a pid from runningMasterPid.
 * It returns once the signal is sent; the master applies it a moment later,
 * hence the probes.
 */
export function reload(masterPid: number): NginxResult {
  const started = performance.now();
  try {
    process.kill(masterPid, 'SIGHUP');
    return { ok: true, output: '', ms: performance.now() - started };
  } catch (err) {
    return { ok: false, output: `cannot signal the nginx master ${masterPid}: ${(err as Error).message}`, ms: performance.now() - started, reason: 'failed' };
  }
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

/** The master's child processes (its workers), pid → process title. Linux /proc. */
export async function workerProcesses(masterPid: number): Promise<Map<number, string>> {
  let pids: number[];
  try {
    const text = await readFile(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8');
    pids = text.split(/\s+/).filter(Boolean).map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    pids = await childrenByScan(masterPid); // kernel without CONFIG_PROC_CHILDREN
  }
  const out = new Map<number, string>();
  for (const pid of pids) {
    const title = await processTitle(pid);
    if (title !== null) out.set(pid, title);
  }
  return out;
}

async function childrenByScan(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) out.push(Number(name));
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

/**
 * After `nginx -s reload`, workers of the previous configuration keep
 * accepting connections until the master has started the new workers and
 * told the old ones to quit; one probe answered by a new worker does not mean
 * the next connection will be. An old worker retitles itself "worker process
 * is shutting down" as it closes its listening sockets (ngx_process_cycle.c),
 * so once each old worker has exited or says so, every new connection meets
 * the new configuration. Resolves with the old workers still serving at the
 * deadline: none means the reload took effect.
 */
export async function retiredWorkers(old: Map<number, string>, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  // Only workers accept connections; those already shutting down (from an
  // earlier reload) no longer do, and cache processes simply exit.
  let serving = [...old].filter(([, title]) => title.includes('worker process') && !title.includes('shutting down')).map(([pid]) => pid);
  for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
    const left: number[] = [];
    for (const pid of serving) {
      const title = await processTitle(pid);
      // null: exited; '': a zombie awaiting its master's wait().
      if (title && !title.includes('shutting down')) left.push(pid);
    }
    serving = left;
    if (serving.length === 0 || Date.now() + pause > deadline) return serving;
    await new Promise((r) => setTimeout(r, pause));
  }
}
