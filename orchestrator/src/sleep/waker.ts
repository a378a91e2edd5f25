// Wake on request: nginx asks here for a frozen or sleeping team (route kind
// `sleeping`, proxy-config/berth_routes.lua). Every ask for the same team
// shares one wake: the first starts the wake operation, the others wait on
// the same promise, however many requests arrive at once. An ask answers as
// soon as the team's app answers (with its port: nginx then proxies the held
// request straight to it), or after `waitMs` with "still waking" (nginx asks
// again, or shows a browser a page that does).
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SleepCommands } from '../tenants/sleep-commands.js';
import type { TenantDoc } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';

export type WakeOutcome =
  | { state: 'up'; port: number }
  | { state: 'failed'; message: string }
  /** The host has no room to wake it now (admission refused: CAPACITY); the team stays asleep, not failed. */
  | { state: 'full'; message: string }
  | { state: 'unknown' };
export type AskOutcome = WakeOutcome | { state: 'waking' };

export interface WakerDeps {
  repo: Pick<TenantsRepository, 'get'>;
  sleep: Pick<SleepCommands, 'wake'>;
  log: Logger;
  /** How long one wake may wait for another operation on the team (a freeze in flight) to end. */
  busyWaitMs: number;
}

const POLL_MS = 50;

export class Waker {
  private readonly inflight = new Map<string, Promise<WakeOutcome>>();
  /** Wake operations this process started (tests count them; concurrent asks share one). */
  wakesStarted = 0;

  constructor(private readonly d: WakerDeps) {}

  /** Waits up to `waitMs` for the team to be up (or the wake to fail). */
  async ask(slug: string, waitMs: number): Promise<AskOutcome> {
    const wake = this.wake(slug);
    let timer: NodeJS.Timeout | undefined;
    const later = new Promise<AskOutcome>((resolve) => (timer = setTimeout(() => resolve({ state: 'waking' }), waitMs)));
    try {
      return await Promise.race([wake, later]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The one wake of this team in flight, or a new one. */
  wake(slug: string): Promise<WakeOutcome> {
    let wake = this.inflight.get(slug);
    if (!wake) {
      wake = this.run(slug).catch((err: Error): WakeOutcome => (err instanceof BerthError && err.code === 'CAPACITY' ? { state: 'full', message: err.message } : { state: 'failed', message: err.message }))
        .finally(() => this.inflight.delete(slug));
      this.inflight.set(slug, wake);
    }
    return wake;
  }

  private async run(slug: string): Promise<WakeOutcome> {
    const deadline = Date.now() + this.d.busyWaitMs;
    for (;;) {
      const doc = await this.d.repo.get(slug);
      if (!doc) return { state: 'unknown' };
      if (!doc.operation) {
        if (doc.phase === 'running' || doc.phase === 'degraded') return { state: 'up', port: doc.port };
        if (doc.phase === 'frozen' || doc.phase === 'sleeping') {
          const outcome = await this.start(doc);
          if (outcome) return outcome;
        } else {
          return { state: 'failed', message: `the team is ${doc.phase}${doc.lastError ? `: ${doc.lastError.message}` : ''}` };
        }
      }
      // Another operation holds the team (a freeze or a stop in flight, an operator's start): wait for its end.
      if (Date.now() > deadline) return { state: 'failed', message: `the team stayed busy (${doc.operation?.kind ?? 'an operation'}) for ${this.d.busyWaitMs} ms` };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Starts the wake; undefined when another operation took the team first (the caller waits and looks again). */
  private async start(doc: TenantDoc): Promise<WakeOutcome | undefined> {
    let awake!: (port: number) => void;
    const up = new Promise<WakeOutcome>((resolve) => (awake = (port) => resolve({ state: 'up', port })));
    let started;
    try {
      started = await this.d.sleep.wake(doc._id, awake);
    } catch (err) {
      if (err instanceof BerthError && err.code === 'OPERATION_CONFLICT') return undefined;
      throw err;
    }
    this.wakesStarted++;
    this.d.log.info({ tenant: doc._id, from: doc.phase, operation: started.operation.id }, 'waking on request');
    const ended = started.done.then(async (end): Promise<WakeOutcome> => {
      if (end.type === 'operation.failed') return { state: 'failed', message: end.message ?? end.code ?? 'the wake failed' };
      const now = await this.d.repo.get(doc._id);
      return now && (now.phase === 'running' || now.phase === 'degraded') ? { state: 'up', port: now.port } : { state: 'failed', message: `the team is ${now?.phase ?? 'gone'}` };
    });
    return Promise.race([up, ended]);
  }
}
