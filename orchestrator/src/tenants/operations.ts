// The one owner of tenant operations and of `phase`. Every operation, whoever
// asks for it (an API command, the health monitor, the reconciler, an
// upgrade), begins here: it takes the tenant's lock in the registry (one at a
// time per tenant, 409 otherwise), runs in the background within the
// platform-wide limit and its deadline, reports every step as an event, and
// ends here in a clear phase, with its metric and its end event. Nothing else
// writes `phase` (test/tenants/operation-owner.test.ts keeps it so).
import { randomUUID } from 'node:crypto';
import type { Metrics } from '../api/metrics.js';
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { assertNotAborted, runWithDeadline, type OperationWatch } from '../runtime/deadlines.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { redactLogLine } from './log-redact.js';
import { OperationLimiter } from './op-limiter.js';
import { isPortTaken } from './port-allocator.js';
import type { TenantStacks } from './tenant-stacks.js';
import type { Step, TenantSteps } from './tenant-steps.js';
import type { SleepSteps } from './sleep-steps.js';
import type { HealthState, Operation, OperationKind, Phase, TenantDoc } from './tenant.types.js';
import type { TenantsRepository } from './tenants.repository.js';

export interface OperationsDeps {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  stacks: TenantStacks;
  steps: TenantSteps;
  sleep: SleepSteps;
  events: EventBus;
  metrics: Metrics;
  log: Logger;
  /** Identifies this process as the owner of the operations it starts. */
  instanceId: string;
  clock: () => Date;
}

/** How an operation ended, as its last event said. */
export interface OperationEnd {
  type: 'operation.succeeded' | 'operation.failed';
  code?: string;
  message?: string;
}

export interface Started {
  operation: { id: string };
  /** Resolves when the operation's end event is published; never rejects. */
  done: Promise<OperationEnd>;
}

/** The work of an operation on the locked tenant; returns the phase it leaves. */
export type Work = (doc: TenantDoc, step: Step, op: Operation) => Promise<Phase>;
/** What a failed operation leaves behind, after it cleaned up. */
export type OnFailure = (op: Operation) => Promise<Phase>;

export interface RunOptions {
  /** The phases the tenant may be in for this operation to take it. */
  allowed: readonly Phase[];
  /** Written with the lock. */
  set?: Omit<Partial<TenantDoc>, 'phase' | 'operation'>;
  /** The phase while the operation runs (an upgrade's 'upgrading'), published as a change from the phase the caller read, with `why`. */
  during?: { phase: Phase; from: Phase };
  why?: Record<string, unknown>;
  extra?: Partial<Operation>;
  onFailure?: OnFailure;
  /**
   * Runs at once, outside the platform-wide limit: a wake from frozen is a
   * few unpause calls with a visitor waiting, and must not queue behind creates.
   */
  unlimited?: boolean;
}

/** Finishes or undoes an operation whose process died: an upgrade (upgrades/tenant-swap.ts), a backup or a restore (backups/). */
export type Resumer = (doc: TenantDoc, op: Operation) => { work: (step: Step) => Promise<Phase>; onFailure: () => Promise<Phase> };
export interface Resumers {
  upgrade?: Resumer;
  backup?: Resumer;
  /** A restore, or a create that restores a backup into the new team (op.restore set). */
  restore?: Resumer;
}

/** How much of a crashing service's log a CRASH_LOOP error carries: its last lines, each capped (the team writes them). */
const CRASH_LOG_LINES = 20;
const CRASH_LOG_LINE_CHARS = 300;

async function lastLogLines(runtime: ContainerRuntime, container: string): Promise<string[]> {
  const text = await runtime.logs(container, CRASH_LOG_LINES).catch((err: Error) => `(log not readable: ${err.message})`);
  return text
    .split('\n')
    .map((line) => line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trimEnd())
    .filter((line) => line !== '')
    .slice(-CRASH_LOG_LINES)
    .map((line) => redactLogLine(line.length > CRASH_LOG_LINE_CHARS ? `${line.slice(0, CRASH_LOG_LINE_CHARS)}…` : line));
}

export class Operations {
  private readonly limiter: OperationLimiter;
  private readonly inflight = new Set<Promise<void>>();
  /** How each operation this process runs ends, while it runs and a minute after. */
  private readonly ends = new Map<string, Promise<OperationEnd>>();

  constructor(private readonly d: OperationsDeps) {
    this.limiter = new OperationLimiter(d.config.maxParallelOps);
  }

  /** Takes the tenant's lock (404 / 409 otherwise) and runs `work` in the background. */
  async run(kind: OperationKind, slug: string, work: Work, options: RunOptions): Promise<Started> {
    const op: Operation = { ...this.newOperation(kind), ...options.extra };
    const doc = await this.d.repo.beginOperation(slug, op, options.allowed, { ...options.set, ...(options.during ? { phase: options.during.phase } : {}) });
    if (options.during) await this.transition(slug, options.during.from, doc.phase, options.why);
    const onFailure = options.onFailure ?? (async () => 'failed' as Phase);
    const done = this.launch(doc, op, (step) => work(doc, step, op), () => onFailure(op), options.unlimited);
    return { operation: { id: op.id }, done };
  }

  /**
   * A new tenant, in the registry at once ('provisioning', under its create
   * operation), then brought up. `insert` writes it (and picks its port).
   */
  async create(draft: Omit<TenantDoc, 'phase' | 'operation'>, keepData: boolean, insert: (doc: TenantDoc) => Promise<void>, work: Work, onFailure: OnFailure, extra: Partial<Operation> = {}): Promise<Started & { doc: TenantDoc }> {
    const op: Operation = { ...this.newOperation('create'), keepData, ...extra };
    const doc: TenantDoc = { ...draft, phase: 'provisioning', operation: op };
    await insert(doc);
    await this.d.events.publish({ type: 'tenant.created', tenant: doc._id, data: { plan: doc.plan, displayName: doc.displayName } });
    const done = this.launch(doc, op, (step) => work(doc, step, op), () => onFailure(op));
    return { doc, operation: { id: op.id }, done };
  }

  /** The health monitor's verdict: a running tenant failed its checks too often. */
  async markDegraded(slug: string, health: HealthState, why: { failing?: string; detail: string }): Promise<void> {
    await this.d.repo.update(slug, { $set: { health, phase: 'degraded' } });
    await this.transition(slug, 'running', 'degraded', why);
  }

  /** The health monitor's verdict: a degraded tenant passes its checks again. */
  async markRecovered(slug: string, health: HealthState): Promise<void> {
    await this.d.repo.update(slug, { $set: { health, phase: 'running' } });
    await this.transition(slug, 'degraded', 'running', { reason: 'healthy again' });
  }

  /**
   * Restarts a degraded tenant's failing service and waits for every probe;
   * false when another operation holds the tenant (it decides, not the monitor).
   */
  async heal(doc: TenantDoc, service: string): Promise<boolean> {
    const op = this.newOperation('heal');
    let locked: TenantDoc;
    try {
      locked = await this.d.repo.beginOperation(doc._id, op, ['degraded']);
    } catch {
      return false;
    }
    this.d.metrics.inc('berth_service_restarts_total', 'Services restarted by the health monitor', { service });
    await this.d.events.publish({ type: 'health.restart', tenant: locked._id, operation: op.id, data: { service, attempt: locked.health?.restarts ?? 1 } });
    const container = this.d.stacks.specFor(locked).services.find((s) => s.name === service)?.container.name;
    void this.launch(locked, op, async (step) => {
      await step(`${service}:restarting`);
      if (container) await this.d.runtime.stopContainer(container, 10);
      // Starts what is stopped, recreates what is missing, and waits for every probe.
      await this.d.steps.bringUp(locked, step);
      return 'running';
    }, async () => 'degraded');
    return true;
  }

  /**
   * The crash watcher's verdict: services of a tenant that should run died
   * and the engine will not start them (a kill, or its retries spent). They
   * are started at once, then every probe is awaited and the route set. The
   * phase is not touched first: a team healed in seconds never shows
   * degraded. OPERATION_CONFLICT when another operation holds the tenant.
   */
  async restartCrashed(doc: TenantDoc, services: string[]): Promise<Started> {
    const op = this.newOperation('heal');
    const locked = await this.d.repo.beginOperation(doc._id, op, ['running', 'degraded']);
    for (const service of services) this.d.metrics.inc('berth_service_restarts_total', 'Services restarted by the health monitor', { service });
    const done = this.launch(locked, op, async (step) => {
      await this.d.events.publish({ type: 'health.restart', tenant: locked._id, operation: op.id, data: { service: services.join(','), reason: 'crashed' } });
      const spec = this.d.stacks.specFor(locked);
      for (const service of services) {
        const container = spec.services.find((s) => s.name === service)?.container.name;
        if (!container) continue;
        await step(`${service}:restarting`);
        // Its port taken meanwhile by something outside the registry: bringUp moves the app to another.
        await this.d.runtime.startContainer(container).catch((err: unknown) => {
          if (!isPortTaken(err)) throw err;
        });
      }
      // Starts whatever else is stopped, recreates what is missing, waits for every probe.
      return this.d.steps.bringUp(locked, step);
    }, async () => 'degraded');
    return { operation: { id: op.id }, done };
  }

  /**
   * The crash watcher's verdict: one service died more often than the
   * crash-loop bound allows. The team is stopped (no more restarts, Docker's
   * own included) and fails with CRASH_LOOP carrying the service's last log
   * lines, secrets redacted; operators see the `health.crash_loop` event.
   */
  async failCrashLoop(doc: TenantDoc, crash: { service: string; deaths: number; windowMs: number }): Promise<Started> {
    const op = this.newOperation('heal');
    const locked = await this.d.repo.beginOperation(doc._id, op, ['running', 'degraded']);
    this.d.metrics.inc('berth_crash_loops_total', 'Teams stopped because a service kept crashing', { service: crash.service });
    // Everything past the lock runs inside the operation: whatever fails, it ends and lets go.
    const done = this.launch(locked, op, async (step) => {
      await step('crash-loop');
      const container = this.d.stacks.specFor(locked).services.find((s) => s.name === crash.service)?.container.name;
      const lines = container ? await lastLogLines(this.d.runtime, container) : [];
      const message = `service ${crash.service} died ${crash.deaths} times within ${Math.round(crash.windowMs / 1000)} s: the team was stopped${lines.length ? `; last log lines:\n${lines.join('\n')}` : ''}`;
      await this.d.events.publish({ type: 'health.crash_loop', tenant: locked._id, operation: op.id, data: { service: crash.service, deaths: crash.deaths, windowMs: crash.windowMs, lines } });
      await this.d.steps.halt(locked, step);
      throw new BerthError('CRASH_LOOP', message, { service: crash.service });
    }, async () => 'failed');
    return { operation: { id: op.id }, done };
  }

  /** The reconciler recreates what is missing under a 'heal' operation, so it is serialized with everything else. */
  async recreate(doc: TenantDoc): Promise<void> {
    const op = this.newOperation('heal');
    const locked = await this.d.repo.beginOperation(doc._id, op, ['running', 'degraded']);
    await this.d.events.publish({ type: 'reconcile.recreate', tenant: doc._id, operation: op.id });
    void this.launch(locked, op, (step) => this.d.steps.bringUp(locked, step), async () => 'degraded');
  }

  /** Removes an interrupted upgrade's leftover containers under a 'heal' operation, so an upgrade never starts while they go. */
  async removeStrays(doc: TenantDoc, containers: string[]): Promise<void> {
    const op = this.newOperation('heal');
    const locked = await this.d.repo.beginOperation(doc._id, op, [doc.phase]);
    void this.launch(locked, op, async (step) => {
      await step('remove-stray');
      for (const name of containers) await this.d.runtime.removeContainer(name);
      return locked.phase;
    }, async () => locked.phase);
  }

  /**
   * Takes over the operation a dead process left on `doc` and runs it again
   * from the start: every step is idempotent. A create that cannot finish is
   * rolled back to a cleanly failed tenant with nothing left behind. False
   * when the tenant changed meanwhile.
   */
  async resume(doc: TenantDoc, dead: Operation, resumers: Resumers = {}): Promise<boolean> {
    const op: Operation = { ...dead, owner: this.d.instanceId, step: 'resumed' };
    const taken = await this.d.repo.update(doc._id, { $set: { operation: op } });
    if (!taken) return false;
    await this.d.events.publish({ type: 'operation.resumed', tenant: doc._id, operation: op.id, data: { kind: op.kind, from: dead.step } });
    const steps = this.d.steps;
    const fail = async (): Promise<Phase> => (op.kind === 'create' ? steps.rollBackCreate(doc._id, !op.keepData) : 'failed');
    const bringUp = (step: Step) => steps.bringUp(taken, step);
    const resumer = (r: Resumer | undefined, or: () => void) => {
      // The step it died at tells the resumer how far it got.
      const it = r?.(taken, { ...op, step: dead.step });
      if (it) void this.launch(taken, op, it.work, it.onFailure);
      else or();
    };
    switch (op.kind) {
      case 'create':
        if (op.restore) resumer(resumers.restore, () => void this.launch(taken, op, bringUp, fail));
        else void this.launch(taken, op, bringUp, fail);
        break;
      // A backup cut short is marked failed and what it froze is thawed; a
      // restore cut short is run again whole (it verified the backup first).
      case 'backup':
        resumer(resumers.backup, () => void this.launch(taken, op, async () => taken.phase, async () => taken.phase));
        break;
      case 'restore':
        resumer(resumers.restore, () => void this.launch(taken, op, bringUp, fail));
        break;
      case 'start':
      case 'restart':
      case 'heal':
        void this.launch(taken, op, bringUp, fail);
        break;
      case 'stop':
        void this.launch(taken, op, (step) => steps.stop(taken, step, { reportRoute: false }), fail);
        break;
      case 'delete':
        void this.launch(taken, op, (step) => steps.tearDown(taken, step, op.deleteData ?? false), fail);
        break;
      case 'owner-link':
        void this.launch(taken, op, (step) => steps.applyOwnerLink(taken, step), fail);
        break;
      // A freeze, stop-for-sleep or wake cut short is run again whole, so
      // the team ends all asleep or all awake, never some containers paused.
      case 'freeze':
        void this.launch(taken, op, (step) => this.d.sleep.freeze(taken, step), () => this.d.sleep.wake(taken, async () => {}));
        break;
      case 'sleep':
        void this.launch(taken, op, (step) => this.d.sleep.sleep(taken, step), fail);
        break;
      case 'wake':
        void this.launch(taken, op, (step) => this.d.sleep.wake(taken, step), async () => {
          await this.d.sleep.failWake(taken);
          return 'failed';
        });
        break;
      case 'upgrade':
        resumer(resumers.upgrade, () => void this.launch(taken, op, bringUp, fail));
        break;
    }
    return true;
  }

  /** How operation `id` (run by this process) ends; an unknown one reads as failed. */
  ended(id: string): Promise<OperationEnd> {
    return this.ends.get(id) ?? Promise.resolve({ type: 'operation.failed', code: 'INTERNAL', message: `operation ${id} is not running in this process` });
  }

  /** Waits for every operation this process started (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private newOperation(kind: OperationKind): Operation {
    return { id: randomUUID(), kind, owner: this.d.instanceId, startedAt: this.d.clock(), step: 'queued' };
  }

  private async transition(slug: string, from: Phase, to: Phase, data: Record<string, unknown> = {}): Promise<void> {
    if (from !== to) await this.d.events.publish({ type: 'tenant.phase', tenant: slug, data: { from, to, ...data } });
  }

  /** Writes an operation's outcome (a database write that briefly fails is tried again). */
  private async record(doc: TenantDoc, op: Operation, phase: Phase, error: BerthError | undefined, where: { step: string; call?: string }): Promise<void> {
    const slug = doc._id;
    for (let attempt = 1; ; attempt++) {
      try {
        if (op.kind === 'delete' && !error) {
          await this.d.repo.remove(slug, op.id);
          await this.d.events.publish({ type: 'tenant.deleted', tenant: slug, operation: op.id, data: { deleteData: op.deleteData ?? false } });
        } else {
          await this.d.repo.endOperation(slug, op.id, error
            ? { $set: { phase, lastError: { code: error.code, message: error.message, at: this.d.clock(), ...where } } }
            : { $set: { phase, ...(phase === 'running' && doc.phase !== 'running' ? { activeAt: this.d.clock() } : {}) }, $unset: { lastError: '' } });
          await this.transition(slug, doc.phase, phase);
        }
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        this.d.log.warn({ tenant: slug, attempt, err: (err as Error).message }, 'recording the end of an operation failed; trying again');
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** Runs an operation in the background; its outcome is events and the final phase. */
  private launch(doc: TenantDoc, op: Operation, work: (step: Step) => Promise<Phase>, onFailure: () => Promise<Phase>, unlimited = false): Promise<OperationEnd> {
    const slug = doc._id;
    const watch: OperationWatch = { step: op.step };
    let ended!: (end: OperationEnd) => void;
    const done = new Promise<OperationEnd>((resolve) => (ended = resolve));
    this.ends.set(op.id, done);
    void done.then(() => setTimeout(() => this.ends.delete(op.id), 60_000).unref());
    const step = async (name: string) => {
      // Work cut short by the deadline reports (and does) nothing more.
      assertNotAborted();
      watch.step = name;
      this.d.log.info({ tenant: slug, op: op.kind, operation: op.id, step: name }, 'operation step');
      // publish() numbers and emits the event before it awaits anything, so
      // steps reported without awaiting still arrive in order.
      const published = this.d.events.publish({ type: 'operation.step', tenant: slug, operation: op.id, data: { kind: op.kind, step: name } });
      await this.d.repo.setStep(slug, op.id, name);
      await published;
    };
    const limited = <T>(fn: () => Promise<T>) => (unlimited ? fn() : this.limiter.run(fn));
    const task = limited(async () => {
        const started = performance.now();
        await this.d.events.publish({ type: 'operation.started', tenant: slug, operation: op.id, data: { kind: op.kind } });
        let phase: Phase;
        let error: BerthError | undefined;
        let where: { step: string; call?: string } = { step: watch.step };
        try {
          // Each runtime call is bounded, so the abandoned work stops within one call's deadline.
          phase = await runWithDeadline(watch, this.d.config.deadlines.operationMs, this.d.config.deadlines.runtimeCallMs, () => work(step));
        } catch (err) {
          error = err instanceof BerthError ? err : new BerthError('INTERNAL', (err as Error).message);
          const call = (error.details?.call as string | undefined) ?? watch.call;
          // A stack's services start together: the failed one names its own step.
          const step = (error.details?.step as string | undefined) ?? watch.step;
          where = { step, ...(call ? { call } : {}) };
          this.d.log.warn({ tenant: slug, op: op.kind, code: error.code, err: error.message, ...where }, 'operation failed');
          // The clean-up is bounded too: its runtime calls and route changes are.
          phase = await runWithDeadline({ step: 'clean-up' }, this.d.config.deadlines.operationMs, 0, onFailure).catch((cleanupErr: Error) => {
            this.d.log.error({ tenant: slug, err: cleanupErr.message }, 'cleanup after a failed operation failed');
            return 'failed' as Phase;
          });
        }
        const seconds = (performance.now() - started) / 1000;
        this.d.metrics.observe('berth_operation_duration_seconds', 'Duration of tenant operations', { kind: op.kind, result: error ? 'failed' : 'ok' }, seconds);
        try {
          await this.record(doc, op, phase, error, where);
        } catch (err) {
          // The end is published all the same: whoever waits on it (--wait, the
          // console, a test) must never wait forever for a database write.
          error ??= new BerthError('DB_UNAVAILABLE', `the operation ended but its outcome was not recorded: ${(err as Error).message}`);
          this.d.log.error({ tenant: slug, op: op.kind, err: (err as Error).message }, 'operation bookkeeping failed');
        }
        const type = error ? 'operation.failed' : 'operation.succeeded';
        const published = this.d.events.publish({
          type,
          tenant: slug,
          operation: op.id,
          data: { kind: op.kind, phase: op.kind === 'delete' && !error ? 'deleted' : phase, seconds: Number(seconds.toFixed(3)), ...(error ? { code: error.code, message: error.message, ...where } : {}) }
        });
        // publish() emitted it already: whoever awaits `done` learns it with the subscribers.
        ended({ type, ...(error ? { code: error.code, message: error.message } : {}) });
        await published;
        this.d.log.info({ tenant: slug, op: op.kind, operation: op.id, result: error ? 'failed' : 'ok', seconds: Number(seconds.toFixed(3)) }, 'operation ended');
      })
      .catch((err: Error) => {
        this.d.log.error({ tenant: slug, err: err.message }, 'operation bookkeeping failed');
        ended({ type: 'operation.failed', code: 'INTERNAL', message: err.message });
      })
      .finally(() => this.inflight.delete(task));
    this.inflight.add(task);
    return done;
  }
}
