// Everything the app needs before it serves members, done at start while its
// database and storage start beside it (Berth starts a stack's services
// together): migrations and indexes, the owner, session housekeeping, and the
// team's bucket. Each is retried at a short interval until it works or
// STARTUP_WAIT_MS passes; then the app exits with a message naming what it
// waited for, which Berth shows with the container's last log lines. Until
// then pages answer 503 and /healthz names "db" or "storage" with the reason.
import { config } from './config';
import { db, resetDb } from './db';
import { log } from './log';
import { ensureOwner } from './members/members.service';
import { migrate } from './migrations/migrate';
import { sessionsService } from './sessions/sessions.service';
import { ensureBucket } from './storage';
import { storageLedger } from './attachments/quota';

/**
 * First retry soon (a service a few ms from listening), later ones further
 * apart but never more than 100 ms: the services start together, so a
 * longer wait is time the team stays unready after its storage is (at most
 * 500 ms, it was up to 400 ms of a 1.3 s create). A refused connection
 * costs both sides next to nothing.
 */
const RETRY_MS = { first: 25, max: 100 };
let ready = false;
let lastError = 'migrations have not run yet';
let resolveReady: () => void = () => {};
const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));

export async function prepareDatabase(): Promise<void> {
  const result = await migrate(db(), config().version);
  log().info({ applied: result.applied, schema: result.current }, result.applied.length ? 'migrations applied' : 'schema up to date');
  await ensureOwner();
  // Housekeeping, not a condition of serving: it runs after /healthz turns 200.
  void sessionsService.purgeExpired().then(
    (purged) => purged && log().info({ purged }, 'expired sessions removed'),
    (err: Error) => log().warn({ error: err.message }, 'expired sessions not removed')
  );
}

/**
 * Runs `work` until it succeeds, at most until STARTUP_WAIT_MS after the
 * process started; then exits the process naming `what`.
 */
async function untilDone(what: string, work: () => Promise<void>, onFailure: (err: Error) => Promise<void> | void): Promise<void> {
  const { startupWaitMs } = config();
  let wait = RETRY_MS.first;
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return;
    } catch (err) {
      await onFailure(err as Error);
      const waited = Math.round(performance.now());
      if (waited >= startupWaitMs) {
        log().fatal({ waited, attempts: attempt, error: (err as Error).message }, `${what} not ready within STARTUP_WAIT_MS (${startupWaitMs} ms); exiting`);
        // The container stops; Berth reports it with these lines.
        process.exit(1);
      }
      if (attempt === 1 || attempt % 20 === 0) log().warn({ error: (err as Error).message, attempt }, `${what} not ready, retrying`);
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, RETRY_MS.max);
    }
  }
}

export async function prepareEventually(): Promise<void> {
  await untilDone('database', prepareDatabase, async (err) => {
    lastError = `not ready: ${err.message}`;
    await resetDb();
  });
  ready = true;
  resolveReady();
}

// Storage may come up after the app (or be restarted under it): /healthz
// reports "storage" until the bucket exists. Then the quota's ledger counts
// what the bucket holds (a failed count is tried again by the first upload).
export async function ensureBucketEventually(): Promise<void> {
  await untilDone('storage', ensureBucket, () => {});
  void storageLedger()?.count().then(
    () => log().info({ used: storageLedger()?.usedBytes, quota: storageLedger()?.quota }, 'storage counted'),
    (err: Error) => log().warn({ error: err.message }, 'storage not counted')
  );
}

/**
 * Both, at once. Logs where the start's time went, in ms since the process
 * started (performance.now()): loaded (Node and the server's modules, when
 * SvelteKit calls init), db and storage (each ready), ready (both).
 */
export async function startUp(): Promise<void> {
  const at = () => Math.round(performance.now());
  const loaded = at();
  const [db, storage] = await Promise.all([prepareEventually().then(at), ensureBucketEventually().then(at)]);
  log().info({ startupMs: { loaded, db, storage, ready: at() } }, 'ready');
}

/** For /healthz: throws while migrations have not finished. */
export function assertPrepared(): void {
  if (!ready) throw new Error(lastError);
}

/** Resolves once prepared; false when that took longer than timeoutMs. */
export async function waitPrepared(timeoutMs: number): Promise<boolean> {
  if (ready) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const result = await Promise.race([readyPromise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
