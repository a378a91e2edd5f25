// An upgrade job's sleeping teams (issue 13 item 6, the lead's decision): a
// frozen or sleeping team is woken for its upgrade, upgraded as an awake team
// is (the same health gate, the same rollback), then put back to the sleep it
// was in (frozen → frozen, sleeping → sleeping). So a team is never left on a
// version nobody saw start, and never left awake by an upgrade. Whether or not
// the swap succeeded it goes back to sleep (on whichever version it then runs).
//
// A visitor during the upgrade wins: if anyone used the team after its wake
// began (a request through nginx, an open WebSocket, a console terminal), it is
// left awake and the sleep policy puts it to sleep once idle, as any team.
// A team that fails to wake is a failed team of the job (WAKE_FAILED, counted
// against the job's failure budget); the wake itself leaves it failed with the
// reason, as a failed wake on request does.
//
// Every phase change goes through the sleep commands, i.e. through
// tenants/operations.ts: the wake, the swap and the put-back are three
// operations, each under the team's lock.
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SleepCommands } from '../tenants/sleep-commands.js';
import type { Phase } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';

export type SleepPhase = 'frozen' | 'sleeping';
export const ASLEEP: readonly Phase[] = ['frozen', 'sleeping'];
export const isAsleep = (phase: Phase): phase is SleepPhase => ASLEEP.includes(phase);

/** Whether anyone used a team, as the edge and the console see it. */
export interface Visits {
  /** A mark of the team's use so far (requests nginx counted, read fresh). */
  mark(slug: string): Promise<number>;
  /** Whether it was used since the mark: a request ended, or a WebSocket or console terminal is open. */
  since(slug: string, mark: number): Promise<boolean>;
}

export interface SleepersDeps {
  sleep: Pick<SleepCommands, 'wake' | 'freeze' | 'stop'>;
  tenantsRepo: Pick<TenantsRepository, 'get'>;
  visits: Visits;
  log: Logger;
}

/** What the upgrade did with a sleeper, kept on the job's tenant entry and in its events. */
export interface SleeperRecord {
  /** The sleep it was in when the job took it. */
  from: SleepPhase;
  /** The wake's tenant operation. */
  wake?: string;
  /** The visits mark taken as the wake began. */
  mark?: number;
  /** Where it ended: its sleep again, or awake and why. */
  after?: string;
}

export type Woken = { ok: true } | { ok: false; code: 'WAKE_FAILED'; message: string };

/** How long a put-back waits while another operation (a heal) holds the team. */
const BUSY_WAIT_MS = 30_000;
const POLL_MS = 500;

export class Sleepers {
  constructor(private readonly d: SleepersDeps) {}

  /**
   * Wakes the team for its upgrade and waits for the wake to end. Another
   * operation holding it (a visitor's wake, a freeze in flight) is waited
   * for, and the team looked at again.
   */
  async wake(slug: string, record: SleeperRecord): Promise<Woken> {
    record.mark = await this.d.visits.mark(slug);
    const failed = (why: string): Woken => ({ ok: false, code: 'WAKE_FAILED', message: `not woken for the upgrade: ${why}` });
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const doc = await this.d.tenantsRepo.get(slug);
      if (!doc) return failed(`tenant ${slug} was deleted`);
      if (!doc.operation) {
        if (doc.phase === 'running' || doc.phase === 'degraded') return { ok: true };
        if (!isAsleep(doc.phase)) return failed(`the team is ${doc.phase}${doc.lastError ? ` (${doc.lastError.message})` : ''}`);
        try {
          const started = await this.d.sleep.wake(slug);
          record.wake = started.operation.id;
          const end = await started.done;
          return end.type === 'operation.succeeded' ? { ok: true } : failed(end.message ?? end.code ?? 'the wake failed');
        } catch (err) {
          if (!(err instanceof BerthError && err.code === 'OPERATION_CONFLICT')) return failed((err as Error).message);
        }
      }
      if (Date.now() > deadline) return failed(`another operation (${doc.operation?.kind ?? 'unknown'}) held the team for ${BUSY_WAIT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Back to the sleep it was in, unless someone used it meanwhile; returns what became of it. */
  async putBack(slug: string, record: SleeperRecord): Promise<string> {
    const after = await this.backTo(slug, record);
    this.d.log.info({ tenant: slug, from: record.from, after }, 'a sleeper after its upgrade');
    return after;
  }

  private async backTo(slug: string, record: SleeperRecord): Promise<string> {
    if (record.mark !== undefined && (await this.d.visits.since(slug, record.mark))) {
      return 'awake: it was used during the upgrade';
    }
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const doc = await this.d.tenantsRepo.get(slug);
      if (!doc) return 'deleted';
      if (doc.phase === record.from && !doc.operation) return record.from;
      if (!doc.operation) {
        if (doc.phase !== 'running') return `left ${doc.phase}`;
        try {
          const why = { reason: 'upgrade', back: record.from };
          const started = await (record.from === 'frozen' ? this.d.sleep.freeze(slug, why) : this.d.sleep.stop(slug, why));
          const end = await started.done;
          const now = await this.d.tenantsRepo.get(slug);
          if (end.type === 'operation.succeeded' && now?.phase === record.from) return record.from;
          return `awake: going back to ${record.from} failed (${end.message ?? end.code ?? now?.phase ?? 'unknown'})`;
        } catch (err) {
          if (!(err instanceof BerthError && err.code === 'OPERATION_CONFLICT')) return `awake: going back to ${record.from} failed (${(err as Error).message})`;
        }
      }
      if (Date.now() > deadline) return `awake: another operation (${doc.operation?.kind ?? 'unknown'}) held the team`;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
