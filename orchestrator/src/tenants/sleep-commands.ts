// The sleep commands: freeze an idle team, stop it for sleep, wake it. The
// sleep policy, the wake listener and the API ask here; the operation runner
// (operations.ts) takes the lock and records the phase, as for every command.
import type { Histogram, Metrics } from '../api/metrics.js';
import { planNeed, type Admission } from '../capacity/admission.js';
import type { EventBus } from '../events/event-bus.js';
import type { Operations, Started } from './operations.js';
import type { OnAwake, SleepSteps } from './sleep-steps.js';
import type { SleepSetting } from './sleep.schema.js';
import type { Phase, TenantDoc } from './tenant.types.js';
import type { TenantsRepository } from './tenants.repository.js';
import type { TenantStacks } from './tenant-stacks.js';
import { sleepMs } from '../stacks/plan-sleep.js';
import { BerthError } from '../errors.js';

export interface SleepCommandsDeps {
  repo: TenantsRepository;
  operations: Operations;
  sleep: SleepSteps;
  stacks: TenantStacks;
  events: EventBus;
  metrics: Metrics;
  /** Asked before a sleeping (stopped) team comes up. A frozen team keeps its memory and is never refused. */
  admission: Admission;
}

/**
 * Wake latency buckets, in seconds: a thaw from frozen answers in tens of
 * milliseconds, a start from stopped in about a second, and a slow one is held
 * up to BERTH_WAKE_HOLD_MS (30 s at most is still worth telling apart).
 */
export const WAKE_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Why a team goes to sleep: the policy's reason, in the phase event. */
export type SleepWhy = Record<string, unknown>;

export class SleepCommands {
  private readonly wakeSeconds: Histogram;

  constructor(private readonly d: SleepCommandsDeps) {
    this.wakeSeconds = d.metrics.histogram('berth_wake_duration_seconds', 'Wakes from the wake\'s start to the team answering (failed: to the failure), whoever asked', WAKE_BUCKETS);
  }

  /** A running team, frozen: its containers paused. A freeze that fails wakes the team back up (never half frozen). */
  freeze(slug: string, why: SleepWhy = {}): Promise<Started> {
    return this.d.operations.run('freeze', slug, (doc, step) => this.d.sleep.freeze(doc, step), {
      allowed: ['running'],
      why,
      onFailure: async () => {
        const doc = await this.d.repo.mustGet(slug);
        return this.d.sleep.wake({ ...doc, phase: 'frozen' }, async () => {});
      }
    }).then((started) => this.announce(slug, 'freeze', why, started));
  }

  /** A running or frozen team, stopped: no memory held. It wakes on its next request all the same. */
  stop(slug: string, why: SleepWhy = {}): Promise<Started> {
    return this.d.operations.run('sleep', slug, (doc, step) => this.d.sleep.sleep(doc, step), { allowed: ['running', 'frozen'] })
      .then((started) => this.announce(slug, 'sleep', why, started));
  }

  /**
   * A frozen or sleeping team, brought up. `onAwake` hears the app's port as
   * soon as it answers. A wake that fails leaves the team failed (the
   * operation's failure event names why) and raises tenant.wake_failed.
   * Every wake, whoever asked (a request through nginx, the API, an upgrade),
   * is observed once in berth_wake_duration_seconds: from this call (a wait
   * for the operation limit included: a visitor waits through it too) to the
   * app answering, or to the operation's end when it failed.
   */
  async wake(slug: string, onAwake?: OnAwake): Promise<Started> {
    const begun = performance.now();
    const before = await this.d.repo.mustGet(slug);
    let from = before.phase;
    let answeredAt: number | undefined;
    const awake: OnAwake = (port) => {
      answeredAt ??= performance.now();
      onAwake?.(port);
    };
    const run = () => this.d.operations.run('wake', slug, (doc, step) => {
      from = doc.phase; // the phase the lock was taken in
      return this.d.sleep.wake(doc, step, awake);
    }, {
      allowed: ['frozen', 'sleeping'],
      set: { desired: 'running' },
      unlimited: before.phase === 'frozen',
      onFailure: async () => {
        const doc = await this.d.repo.mustGet(slug);
        // Nothing half awake: whatever was started is stopped again, and the page says failed.
        await this.d.sleep.failWake(doc);
        return 'failed' as Phase;
      }
    });
    // A sleeping team is refused before the operation begins: it stays asleep,
    // not failed (the host is full, the team is fine), and the next request asks again.
    const started = before.phase === 'sleeping'
      ? await this.d.admission.holdFor({ work: 'wake', tenant: slug, plan: before.plan, ...planNeed(this.d.stacks.templateOf(before), before.plan), diskBytes: 0 }, run)
      : await run();
    void started.done.then((end) => {
      const ok = end.type === 'operation.succeeded';
      const at = ok ? (answeredAt ?? performance.now()) : performance.now();
      this.wakeSeconds.observe({ from, outcome: ok ? 'ok' : 'failed' }, (at - begun) / 1000);
      if (!ok) {
        void this.d.events.publish({ type: 'tenant.wake_failed', tenant: slug, operation: started.operation.id, data: { code: end.code, message: end.message } });
      }
    });
    return started;
  }

  /** The team's own sleep times (each field absent: its plan's); an empty object clears them. */
  async setTimes(slug: string, setting: SleepSetting): Promise<TenantDoc> {
    for (const [field, value] of Object.entries(setting)) {
      if (sleepMs(value) === undefined) throw new BerthError('VALIDATION_FAILED', `${field}: must be a duration such as 30s, 15m, 12h or 7d, or never`, { field });
    }
    const clean = { ...(setting.pause ? { pause: setting.pause } : {}), ...(setting.stop ? { stop: setting.stop } : {}) };
    const doc = await this.d.repo.update(slug, Object.keys(clean).length > 0 ? { $set: { sleep: clean } } : { $unset: { sleep: '' } });
    if (!doc) throw new BerthError('TENANT_NOT_FOUND', `no tenant "${slug}"`);
    await this.d.events.publish({ type: 'tenant.sleep_times', tenant: slug, data: { ...this.d.stacks.sleepTimes(doc), override: clean } });
    return doc;
  }

  private async announce(slug: string, kind: string, why: SleepWhy, started: Started): Promise<Started> {
    if (Object.keys(why).length > 0) await this.d.events.publish({ type: 'tenant.sleep', tenant: slug, operation: started.operation.id, data: { kind, ...why } });
    return started;
  }
}
