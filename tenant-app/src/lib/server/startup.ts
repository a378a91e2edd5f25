// Everything the database needs before the app serves members: migrations and
// indexes, the owner, session housekeeping. Retried until it works (the
// database may still be starting); until then pages answer 503 and /healthz
// reports "db" with the reason.
import { config } from './config';
import { db } from './db';
import { log } from './log';
import { ensureOwner } from './members/members.service';
import { migrate } from './migrations/migrate';
import { sessionsService } from './sessions/sessions.service';

const RETRY_MS = 1000;
let ready = false;
let lastError = 'migrations have not run yet';
let resolveReady: () => void = () => {};
const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));

export async function prepareDatabase(): Promise<void> {
  const result = await migrate(db(), config().version);
  log().info({ applied: result.applied, schema: result.current }, result.applied.length ? 'migrations applied' : 'schema up to date');
  await ensureOwner();
  const purged = await sessionsService.purgeExpired();
  if (purged) log().info({ purged }, 'expired sessions removed');
}

export async function prepareEventually(): Promise<void> {
  for (;;) {
    try {
      await prepareDatabase();
      ready = true;
      resolveReady();
      return;
    } catch (err) {
      lastError = `not ready: ${(err as Error).message}`;
      log().warn({ error: (err as Error).message }, 'database not prepared, retrying');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
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
