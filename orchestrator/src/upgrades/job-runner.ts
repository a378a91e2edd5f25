// Drives upgrade jobs: the canary batch first, then the rest with the job's
// concurrency, each tenant through TenantSwap. Before every tenant it reads
// the job's state, so a pause, cancel or halt stops new tenants at once while
// those already upgrading finish. Per-tenant progress is saved after every
// change; a runner started after a crash first settles the tenants its
// predecessor left mid-upgrade (whose operations the reconciler finished or
// undid), then goes on where the job stood.
import { BerthError, type ErrorCode } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import { isAsleep, type Sleepers } from './sleepers.js';
import { UPGRADABLE, type TenantSwap } from './tenant-swap.js';
import type { UpgradesRepository } from './upgrades.repository.js';
import type { JobState, JobTenant, UpgradeJob } from './upgrade.types.js';

export interface RunnerDeps {
  repo: UpgradesRepository;
  tenantsRepo: TenantsRepository;
  swap: TenantSwap;
  /** Wakes a sleeping team for its upgrade and puts it back after. */
  sleepers: Sleepers;
  /** Takes a backup of the team (a pre-upgrade one) and says how it ended; absent: no backups before upgrades. */
  backupBefore?: (slug: string) => Promise<{ ok: true; id: string } | { ok: false; id?: string; code: string; message: string }>;
  events: EventBus;
  log: Logger;
  instanceId: string;
}

/** A tenant interrupted this often (orchestrator restarts) counts as failed. */
const MAX_ATTEMPTS = 3;
/** How long a tenant busy with another operation (a heal, a restart) is waited for. */
const BUSY_WAIT_MS = 180_000;
const POLL_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class JobRunner {
  private readonly driving = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly d: RunnerDeps) {}

  /** Takes over every job not at an end and drives those that run. */
  async start(): Promise<void> {
    for (const job of await this.d.repo.active()) {
      await this.d.repo.claim(job._id, this.d.instanceId);
      if (job.state === 'running') this.kick(job._id);
      else if (job.tenants.some((e) => e.state === 'upgrading')) this.kick(job._id); // settle them, then wait
    }
  }

  /** Takes no new tenants and waits for the drives under way (tenants upgrading finish). */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.driving.size > 0) await Promise.allSettled([...this.driving.values()]);
  }

  isDriving(id: string): boolean {
    return this.driving.has(id);
  }

  /** Drives the job unless it is already driven. */
  kick(id: string): void {
    if (this.stopping || this.driving.has(id)) return;
    const run = this.drive(id)
      .catch((err: Error) => this.d.log.error({ job: id, err: err.message }, 'upgrade job runner failed'))
      .finally(() => this.driving.delete(id));
    this.driving.set(id, run);
  }

  async setState(job: UpgradeJob, from: readonly JobState[], to: JobState, extra: Partial<UpgradeJob> = {}): Promise<UpgradeJob | null> {
    const done = to === 'succeeded' || to === 'failed' || to === 'halted' || to === 'cancelled';
    const moved = await this.d.repo.transition(job._id, from, to, { ...extra, ...(done ? { endedAt: new Date() } : {}) });
    if (moved) await this.d.events.publish({ type: 'upgrade.state', operation: job._id, data: { from: job.state, to, ...(extra.reason ? { reason: extra.reason } : {}) } });
    return moved;
  }

  /** Marks tenants that never started as skipped, once the job ended early. */
  async skipPending(job: UpgradeJob, why: string): Promise<void> {
    const pending = job.tenants.filter((e) => e.state === 'pending');
    if (pending.length === 0) return;
    for (const e of pending) Object.assign(e, { state: 'skipped', step: why });
    await this.d.repo.saveTenants(job._id, job.tenants);
    for (const e of pending) await this.publishTenant(job, e);
  }

  private async drive(id: string): Promise<void> {
    const job = await this.d.repo.mustGet(id);
    let saving = Promise.resolve();
    let queued: Promise<void> | undefined;
    // One write at a time, each of the whole (small) list as it is when the
    // write begins: changes made while a write waits for its turn share it.
    const save = () => (queued ??= saving = saving.then(() => {
      queued = undefined;
      return this.d.repo.saveTenants(id, job.tenants);
    }).catch((err: Error) => {
      this.d.log.warn({ job: id, err: err.message }, 'upgrade progress not saved');
    }));
    await Promise.all(job.tenants.filter((e) => e.state === 'upgrading').map((e) => this.settle(job, e, save)));
    const s = job.strategy;
    const canaries = job.tenants.filter((e) => e.canary);
    const failedAfterCanary = () => job.tenants.filter((e) => !e.canary && e.state === 'failed').length;
    // The halt and the skipping of the tenants that never started are one
    // write: a reader that sees "halted" never sees them still pending.
    const halt = async (reason: string) => {
      await saving;
      const why = "the job was halted before this tenant's turn";
      const tenants = job.tenants.map((e) => (e.state === 'pending' ? { ...e, state: 'skipped' as const, step: why } : e));
      if (!(await this.setState(job, ['running'], 'halted', { reason, tenants }))) return;
      const skipped = job.tenants.filter((e) => e.state === 'pending');
      for (const e of skipped) Object.assign(e, { state: 'skipped', step: why });
      for (const e of skipped) await this.publishTenant(job, e);
    };
    for (;;) {
      job.state = (await this.d.repo.mustGet(id)).state;
      if (job.state !== 'running' || this.stopping) break;
      if (canaries.some((e) => e.state === 'pending')) {
        await this.pool(job, canaries, Math.min(s.concurrency, canaries.length), save, () => true);
        continue;
      }
      const failedCanary = canaries.filter((e) => e.state === 'failed');
      if (failedCanary.length > 0) {
        await halt(`the canary failed: ${failedCanary.map((e) => `${e.slug} (${e.error?.code ?? 'failed'})`).join(', ')}`);
        break;
      }
      const approved = (await this.d.repo.mustGet(id)).approvedAt;
      if (canaries.length > 0 && !s.autoApprove && !approved) {
        await this.setState(job, ['running'], 'awaiting-approval');
        break;
      }
      const rest = job.tenants.filter((e) => !e.canary && e.state === 'pending');
      if (rest.length > 0) {
        await this.pool(job, rest, s.concurrency, save, () => failedAfterCanary() <= s.maxFailures);
        if (failedAfterCanary() > s.maxFailures) {
          await halt(`${failedAfterCanary()} tenants failed after the canary (more than maxFailures ${s.maxFailures})`);
          break;
        }
        continue;
      }
      const failed = job.tenants.filter((e) => e.state === 'failed');
      await this.setState(job, ['running'], failed.length > 0 ? 'failed' : 'succeeded', failed.length > 0 ? { reason: `${failed.length} tenants failed and kept their version` } : {});
      break;
    }
    await saving;
    if (this.stopping) return;
    const end = await this.d.repo.mustGet(id);
    if (end.state === 'halted' || end.state === 'cancelled') await this.skipPending(job, `the job was ${end.state} before this tenant's turn`);
  }

  /**
   * Runs `entries` (those still pending) with `width` workers while the job
   * runs and `keepGoing` holds. A worker takes the next tenant once its
   * current one is served by its new container: the old one drains and goes
   * while the next starts, so `width` bounds the tenants starting or
   * switching at once. Resolves when every tenant it began has ended.
   */
  private async pool(job: UpgradeJob, entries: JobTenant[], width: number, save: () => Promise<void>, keepGoing: () => boolean): Promise<void> {
    let next = 0;
    const ending: Promise<void>[] = [];
    const worker = async () => {
      for (;;) {
        if (this.stopping || !keepGoing()) return;
        if ((await this.d.repo.mustGet(job._id)).state !== 'running') return;
        const entry = entries.slice(next).find((e) => e.state === 'pending');
        if (!entry) return;
        next = entries.indexOf(entry) + 1;
        let switched = () => {};
        const served = new Promise<void>((resolve) => (switched = resolve));
        const ended = this.upgradeOne(job, entry, save, switched);
        ending.push(ended);
        await Promise.race([served, ended]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, width) }, worker));
    await Promise.all(ending);
  }

  /**
   * One tenant, start to end; `switched` is called once nginx routes to its
   * new container. A sleeping team is woken first and put back after
   * (upgrades/sleepers.ts); one that will not wake fails with WAKE_FAILED.
   */
  private async upgradeOne(job: UpgradeJob, e: JobTenant, save: () => Promise<void>, switched: () => void): Promise<void> {
    Object.assign(e, { state: 'upgrading', step: 'queued', startedAt: new Date(), attempts: e.attempts + 1 });
    delete e.error;
    delete e.endedAt;
    await save();
    await this.publishTenant(job, e);
    try {
      const doc = await this.d.tenantsRepo.get(e.slug);
      if (!doc) {
        this.end(e, 'skipped', { code: 'TENANT_NOT_FOUND', message: `tenant ${e.slug} was deleted` });
      } else if (doc.appVersion === e.to && doc.operation?.kind !== 'upgrade') {
        this.end(e, 'succeeded');
      } else if (!UPGRADABLE.includes(doc.phase) && !isAsleep(doc.phase)) {
        this.end(e, 'skipped', { code: 'OPERATION_CONFLICT', message: `tenant ${e.slug} is ${doc.phase}` });
      } else {
        // Its backup first, asleep or not (a sleeping team's volumes are read as they rest).
        const backedUp = await this.backupFor(job, e, save);
        if (!backedUp) return;
        // An earlier attempt's record stays (a restart between its wake and its swap): the team still goes back.
        if (isAsleep(doc.phase)) e.sleeper = { from: doc.phase };
        const woken = e.sleeper ? await this.wakeFor(job, e, save) : { ok: true as const };
        if (!woken.ok) this.end(e, 'failed', { code: woken.code, message: woken.message });
        else await this.swapOne(job, e, save, switched);
        if (woken.ok && e.sleeper) await this.putBack(job, e, save);
      }
    } catch (err) {
      const code = err instanceof BerthError ? err.code : 'INTERNAL';
      this.end(e, 'failed', { code, message: (err as Error).message });
    }
    await save();
    await this.publishTenant(job, e);
  }

  /** The swap of an awake team; ends the entry succeeded or failed (it keeps its version). */
  private async swapOne(job: UpgradeJob, e: JobTenant, save: () => Promise<void>, switched: () => void): Promise<void> {
    try {
      const { operation, done } = await this.startSwap(job, e, save, switched);
      e.operation = operation;
      await save();
      const outcome = await done;
      const after = await this.d.tenantsRepo.get(e.slug);
      if (after?.appVersion === e.to) this.end(e, 'succeeded');
      else this.end(e, 'failed', { code: (outcome.code as ErrorCode | undefined) ?? 'UPGRADE_FAILED', message: outcome.message ?? `tenant ${e.slug} still runs ${after?.appVersion ?? 'nothing'}` });
    } catch (err) {
      const code = err instanceof BerthError ? err.code : 'INTERNAL';
      this.end(e, 'failed', { code, message: (err as Error).message });
    }
  }

  /**
   * The job's pre-upgrade backup of the team (strategy.backup); false when
   * it failed and the job requires one: the entry then ends failed with
   * BACKUP_FAILED, before anything of the team was touched. A backup an
   * earlier attempt took stands.
   */
  private async backupFor(job: UpgradeJob, e: JobTenant, save: () => Promise<void>): Promise<boolean> {
    const mode = job.strategy.backup ?? 'required';
    if (mode === 'skip' || !this.d.backupBefore || e.backup?.id) return true;
    await this.report(job, e, save, 'backup');
    const deadline = Date.now() + BUSY_WAIT_MS;
    let taken;
    for (;;) {
      try {
        taken = await this.d.backupBefore(e.slug);
        break;
      } catch (err) {
        // Another operation holds the team: wait for it as the swap would.
        const busy = err instanceof BerthError && err.code === 'OPERATION_CONFLICT';
        if (busy && Date.now() < deadline) {
          await sleep(POLL_MS * 2);
          continue;
        }
        taken = { ok: false as const, code: err instanceof BerthError ? err.code : 'INTERNAL', message: (err as Error).message };
        break;
      }
    }
    if (taken.ok) {
      e.backup = { id: taken.id };
      await save();
      return true;
    }
    e.backup = { ...(taken.id ? { id: taken.id } : {}), error: { code: taken.code, message: taken.message } };
    if (mode === 'best-effort') {
      await save();
      return true;
    }
    this.end(e, 'failed', { code: 'BACKUP_FAILED', message: `the backup before the upgrade failed (${taken.message}); ${e.slug} was not upgraded and keeps ${e.from}. Start the job with backup: best-effort or skip to upgrade without one` });
    await save();
    await this.publishTenant(job, e);
    return false;
  }

  private async wakeFor(job: UpgradeJob, e: JobTenant, save: () => Promise<void>) {
    await this.report(job, e, save, `waking (${e.sleeper!.from})`);
    const woken = await this.d.sleepers.wake(e.slug, e.sleeper!);
    await save();
    return woken;
  }

  /** Back to its sleep (whatever the swap's outcome), or awake when a visitor came; the entry and its event say which. */
  private async putBack(job: UpgradeJob, e: JobTenant, save: () => Promise<void>): Promise<void> {
    // The entry ends once the team is back: a reader never sees it done while it is still awake.
    const ended = { state: e.state, step: e.step };
    e.state = 'upgrading';
    await this.report(job, e, save, `back to ${e.sleeper!.from}`);
    e.sleeper!.after = await this.d.sleepers.putBack(e.slug, e.sleeper!);
    Object.assign(e, ended, { endedAt: new Date() });
  }

  private async report(job: UpgradeJob, e: JobTenant, save: () => Promise<void>, step: string): Promise<void> {
    e.step = step;
    await save();
    await this.publishTenant(job, e);
  }

  /** Starts the tenant's swap, waiting while another operation (a heal, a restart) holds it. */
  private async startSwap(job: UpgradeJob, e: JobTenant, save: () => Promise<void>, switched: () => void) {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      try {
        return await this.d.swap.start(e.slug, e.to, {
          job: job._id,
          healthTimeoutMs: job.strategy.healthTimeoutMs,
          onStep: (step) => {
            if (step === 'drain') switched();
            e.step = step;
            void save();
            void this.publishTenant(job, e);
          }
        });
      } catch (err) {
        const busy = err instanceof BerthError && err.code === 'OPERATION_CONFLICT' && !!(await this.d.tenantsRepo.get(e.slug))?.operation;
        if (!busy || Date.now() > deadline) throw err;
        e.step = 'waiting for the tenant';
        await sleep(POLL_MS * 2);
      }
    }
  }

  /**
   * A tenant its previous runner left mid-upgrade: waits until its upgrade
   * operation is over (the reconciler finishes or undoes it), then counts it
   * done if it runs the target, or queues it again.
   */
  private async settle(job: UpgradeJob, e: JobTenant, save: () => Promise<void>): Promise<void> {
    for (;;) {
      const doc = await this.d.tenantsRepo.get(e.slug);
      if (!doc) {
        this.end(e, 'skipped', { code: 'TENANT_NOT_FOUND', message: `tenant ${e.slug} was deleted` });
        break;
      }
      if (doc.operation?.kind !== 'upgrade') {
        if (doc.appVersion === e.to) {
          // A sleeper whose process died after its swap: back to its sleep before its entry ends.
          if (e.sleeper && !e.sleeper.after && !this.stopping) await this.putBack(job, e, save);
          this.end(e, 'succeeded');
        }
        else if (e.attempts >= MAX_ATTEMPTS) this.end(e, 'failed', { code: 'UPGRADE_INTERRUPTED', message: `interrupted ${e.attempts} times by orchestrator restarts` });
        else Object.assign(e, { state: 'pending', step: 'interrupted; queued again' });
        break;
      }
      if (this.stopping) return;
      await sleep(POLL_MS);
    }
    await save();
    await this.publishTenant(job, e);
  }

  private end(e: JobTenant, state: 'succeeded' | 'failed' | 'skipped', error?: { code: ErrorCode; message: string }): void {
    Object.assign(e, { state, endedAt: new Date(), step: state === 'succeeded' ? 'done' : e.step });
    if (error) e.error = error;
  }

  private async publishTenant(job: UpgradeJob, e: JobTenant): Promise<void> {
    await this.d.events.publish({
      type: 'upgrade.tenant',
      tenant: e.slug,
      operation: job._id,
      data: {
        state: e.state, step: e.step, from: e.from, to: e.to, attempts: e.attempts, canary: e.canary,
        ...(e.operation ? { tenantOperation: e.operation } : {}),
        ...(e.sleeper ? { sleeper: { from: e.sleeper.from, ...(e.sleeper.wake ? { wake: e.sleeper.wake } : {}), ...(e.sleeper.after ? { after: e.sleeper.after } : {}) } } : {}),
        ...(e.error ?? {})
      }
    });
  }
}
