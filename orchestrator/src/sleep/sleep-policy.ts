// The sleep policy: on an interval it looks at every team that should run and
// decides who sleeps. Idle means no request through nginx, no open WebSocket,
// no console terminal and no operation for the team's time (its plan's
// x-berth.plans.<plan>.sleep, or its own): idle for `pause`, the team is
// frozen (docker pause: memory kept, no CPU); idle for `stop`, it is stopped
// (no memory). When the host runs short of memory (MemAvailable below the
// configured floor), frozen teams are stopped, the longest idle first, so
// they never push awake teams into swap or the OOM killer. The policy only
// decides; the sleep commands (tenants/sleep-commands.ts) act, under the
// team's operation lock, so an operator's command or a wake always wins the race.
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { Periodic } from '../periodic.js';
import type { Activity } from '../proxy/edge-activity.js';
import type { SleepCommands } from '../tenants/sleep-commands.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { TenantDoc } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { MemoryReader } from '../capacity/host.js';

export interface SleepPolicyDeps {
  repo: Pick<TenantsRepository, 'list'>;
  stacks: Pick<TenantStacks, 'sleepTimes'>;
  sleep: Pick<SleepCommands, 'freeze' | 'stop'>;
  /** Edge activity: read fresh at the start of each pass. */
  activity: { refresh(): Promise<unknown>; activity(slug: string): Activity };
  terminals: { openFor(slug: string): boolean };
  memory: MemoryReader;
  log: Logger;
  clock: () => Date;
  intervalMs: number;
  /** Below this many bytes of MemAvailable, frozen teams are stopped; 0: never. */
  minAvailableBytes: number;
  /** Frozen teams stopped per pass under memory pressure. */
  pressureBatch: number;
}

export interface SleepReport {
  frozen: string[];
  stopped: string[];
  /** Frozen teams stopped because the host ran short of memory, in the order they went. */
  pressure: string[];
  /** MemAvailable at the pass, when the kernel said. */
  availableBytes: number | null;
}

export class SleepPolicy {
  private readonly loop: Periodic<SleepReport>;
  /** Before this process watched, a team's activity is unknown: its idle time counts from here at the earliest. */
  private readonly since: Date;

  constructor(private readonly d: SleepPolicyDeps) {
    this.since = d.clock();
    this.loop = new Periodic(() => this.run(), d.intervalMs, d.log, 'sleep');
  }

  start(): void {
    this.loop.start(() => this.pass());
  }

  /** Stops the loop and waits for a pass under way: none runs once this resolves. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass; concurrent callers share the pass in flight. */
  pass(): Promise<SleepReport> {
    return this.loop.pass();
  }

  /** When the team was last active: its last request, when it last became running, or when this process started watching. */
  idleSince(doc: TenantDoc): Date {
    const last = this.d.activity.activity(doc._id).lastRequestAt?.getTime() ?? 0;
    const active = (doc.activeAt ?? doc.createdAt).getTime();
    return new Date(Math.max(last, active, this.since.getTime()));
  }

  private async run(): Promise<SleepReport> {
    const report: SleepReport = { frozen: [], stopped: [], pressure: [], availableBytes: null };
    // Without fresh activity no team may sleep: a request nobody counted yet is not idleness.
    await this.d.activity.refresh();
    const now = this.d.clock().getTime();
    const docs = await this.d.repo.list();
    const acted = new Set<string>();
    for (const doc of docs) {
      if (doc.operation || doc.desired !== 'running' || (doc.phase !== 'running' && doc.phase !== 'frozen')) continue;
      if (this.d.activity.activity(doc._id).openWebSockets > 0 || this.d.terminals.openFor(doc._id)) continue;
      let times;
      try {
        times = this.d.stacks.sleepTimes(doc);
      } catch (err) {
        this.d.log.warn({ tenant: doc._id, err: (err as Error).message }, 'sleep times unknown; the team stays awake');
        continue;
      }
      const idleMs = now - this.idleSince(doc).getTime();
      const why = { reason: 'idle', idleSeconds: Math.round(idleMs / 1000) };
      if (times.stopMs !== null && idleMs >= times.stopMs) {
        if (await this.act(doc, () => this.d.sleep.stop(doc._id, { ...why, after: times.stop }))) report.stopped.push(doc._id);
        acted.add(doc._id);
      } else if (doc.phase === 'running' && times.pauseMs !== null && idleMs >= times.pauseMs) {
        if (await this.act(doc, () => this.d.sleep.freeze(doc._id, { ...why, after: times.pause }))) report.frozen.push(doc._id);
        acted.add(doc._id);
      }
    }
    if (this.d.minAvailableBytes > 0) await this.relieve(docs, acted, report);
    if (report.frozen.length + report.stopped.length + report.pressure.length > 0) this.d.log.info({ ...report }, 'sleep pass');
    return report;
  }

  /** Under memory pressure: the frozen teams idle longest are stopped first. */
  private async relieve(docs: TenantDoc[], acted: Set<string>, report: SleepReport): Promise<void> {
    report.availableBytes = await this.d.memory().catch((err: Error) => {
      this.d.log.warn({ err: err.message }, 'host memory not read');
      return null;
    });
    if (report.availableBytes === null || report.availableBytes >= this.d.minAvailableBytes) return;
    const frozen = docs
      .filter((d) => d.phase === 'frozen' && !d.operation && !acted.has(d._id))
      .sort((a, b) => this.idleSince(a).getTime() - this.idleSince(b).getTime() || a._id.localeCompare(b._id));
    for (const doc of frozen.slice(0, this.d.pressureBatch)) {
      const why = { reason: 'memory', availableBytes: report.availableBytes, minAvailableBytes: this.d.minAvailableBytes };
      if (await this.act(doc, () => this.d.sleep.stop(doc._id, why))) report.pressure.push(doc._id);
    }
  }

  /** False when the team was taken meanwhile (another operation, a wake): it decides. */
  private async act(doc: TenantDoc, command: () => Promise<unknown>): Promise<boolean> {
    try {
      await command();
      return true;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'OPERATION_CONFLICT') return false;
      this.d.log.warn({ tenant: doc._id, err: (err as Error).message }, 'sleep command failed');
      return false;
    }
  }
}
