// Runs the migrations this database has not seen, in order, each recorded in
// the `migrations` collection when it finished. A second start finds them all
// recorded and changes nothing. A lock document keeps two instances (e.g. old
// and new during an upgrade) from migrating at once.
import type { Db } from 'mongodb';
import { ensureIndexes, indexesCurrent } from './indexes';
import { MIGRATIONS, type Migration } from './migrations';

export interface MigrationRecord {
  _id: number;
  name: string;
  appliedAt: Date;
  appVersion: string;
}

interface LockDoc {
  _id: 'lock';
  holder: string;
  expiresAt: Date;
}

const LOCK_MS = 5 * 60_000;

async function acquire(db: Db, holder: string, waitMs: number): Promise<void> {
  const locks = db.collection<LockDoc>('migration_lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    // A lock left by a crashed instance expires and is taken over.
    await locks.deleteOne({ _id: 'lock', expiresAt: { $lt: new Date() } });
    try {
      await locks.insertOne({ _id: 'lock', holder, expiresAt: new Date(Date.now() + LOCK_MS) });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    if (Date.now() > deadline) throw new Error('another instance holds the migration lock');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function recordedVersions(db: Db): Promise<Set<number>> {
  const records = db.collection<MigrationRecord>('migrations');
  return new Set((await records.find({}, { projection: { _id: 1 } }).toArray()).map((r) => r._id));
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

export async function migrate(db: Db, appVersion: string, options: { migrations?: Migration[]; lockWaitMs?: number } = {}): Promise<MigrateResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  const current = Math.max(0, ...migrations.map((m) => m.version));
  // The usual start: nothing to do. Two reads at once, no lock taken.
  const [recorded, indexed] = await Promise.all([recordedVersions(db), indexesCurrent(db)]);
  if (indexed && migrations.every((m) => recorded.has(m.version))) return { applied: [], current };
  const holder = `${appVersion}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await acquire(db, holder, options.lockWaitMs ?? 60_000);
  const applied: string[] = [];
  try {
    const records = db.collection<MigrationRecord>('migrations');
    const done = await recordedVersions(db);
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await migration.up(db);
      await records.insertOne({ _id: migration.version, name: migration.name, appliedAt: new Date(), appVersion });
      applied.push(`${migration.version}-${migration.name}`);
    }
    await ensureIndexes(db);
    return { applied, current };
  } finally {
    await db.collection<LockDoc>('migration_lock').deleteOne({ _id: 'lock', holder });
  }
}
