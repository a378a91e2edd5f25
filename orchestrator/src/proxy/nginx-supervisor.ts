// Keeps Berth's nginx running. Nothing else restarts it: nginx-up starts it
// once, as a daemon. Every interval the supervisor reads the master's pid;
// when no master runs (killed, crashed), it stops the orphaned workers a
// SIGKILLed master leaves behind (they still hold the listening sockets),
// removes the stale control socket (nginx does not unlink one at bind),
// starts a master on the same prefix and configuration, and asks for the
// routes to be replayed. nginx already loaded the table file at start; the
// replay covers a file that was refused as corrupt (its last good copy is
// one change behind) or a write still under way. A master that changed
// without us (an operator ran nginx-up after a stop) gets the replay too.
import { rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { runningMasterPid, socketHolders, startMaster, type NginxTarget } from './nginx-control.js';

export interface NginxSupervisorOptions {
  target: NginxTarget;
  pidFile: string;
  controlSocket: string;
  log: Logger;
  /** Replays the routes into a (re)started nginx. */
  restore: () => Promise<void>;
  intervalMs?: number;
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class NginxSupervisor {
  private timer: NodeJS.Timeout | undefined;
  private master: number | null | undefined;
  private running$: Promise<void> | undefined;
  private stopped = false;
  restarts = 0;

  constructor(private readonly o: NginxSupervisorOptions) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.timer = setTimeout(() => {
        this.check()
          .catch((err: Error) => this.o.log.error({ err: err.message }, 'nginx supervision failed; trying again'))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.o.intervalMs ?? 1000);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running$?.catch(() => undefined);
  }

  /** One look; restarts nginx when no master runs. */
  check(): Promise<void> {
    this.running$ ??= this.look().finally(() => (this.running$ = undefined));
    return this.running$;
  }

  private async look(): Promise<void> {
    let pid = await runningMasterPid(this.o.pidFile);
    if (pid === null) {
      if (this.stopped) return;
      pid = await this.restart();
    } else if (this.master !== undefined && this.master !== pid) {
      this.o.log.warn({ was: this.master, now: pid }, 'nginx master changed; replaying the routes');
      await this.o.restore();
    }
    this.master = pid;
  }

  private async restart(): Promise<number> {
    this.o.log.error({ was: this.master ?? null }, 'nginx master is not running; restarting it');
    const orphans = await socketHolders(this.o.controlSocket);
    for (const pid of orphans) process.kill(pid, 'SIGQUIT'); // finish in-flight requests, then exit
    for (const pid of orphans) {
      if (!(await exited(pid, 10_000))) process.kill(pid, 'SIGKILL');
    }
    await rm(this.o.controlSocket, { force: true });
    const started = await startMaster(this.o.target);
    if (!started.ok) throw new Error(`nginx did not start: ${started.output}`);
    const deadline = Date.now() + 10_000;
    let pid: number | null = null;
    while ((pid = await runningMasterPid(this.o.pidFile)) === null) {
      if (Date.now() > deadline) throw new Error(`nginx started but wrote no live pid to ${this.o.pidFile} within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.restarts++;
    await this.o.restore();
    this.o.log.warn({ pid, orphansStopped: orphans.length }, 'nginx restarted; routes restored');
    return pid;
  }
}
