import { config } from './config';
import { pingDb } from './db';
import { checkBucket } from './storage';
import { assertPrepared } from './startup';

export type CheckName = 'db' | 'storage';
export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}
export interface HealthReport {
  status: 'ok' | 'fail';
  failed: CheckName[];
  checks: Record<CheckName, CheckResult>;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function run(check: () => Promise<void>): Promise<CheckResult> {
  const started = performance.now();
  try {
    await withTimeout(check(), config().checkTimeoutMs);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - started), error: (err as Error).message };
  }
}

/** "Working", not just "running": the database answers a ping and the bucket is reachable. */
export async function health(): Promise<HealthReport> {
  // The db counts as working once it answers and the schema is migrated.
  const dbCheck = async () => {
    await pingDb();
    assertPrepared();
  };
  const [db, storage] = await Promise.all([run(dbCheck), run(checkBucket)]);
  const checks = { db, storage };
  const failed = (Object.keys(checks) as CheckName[]).filter((name) => !checks[name].ok);
  return { status: failed.length === 0 ? 'ok' : 'fail', failed, checks };
}
