// Indexes, as data. Made after the migrations, then recorded with a
// fingerprint of this list: a start that finds the same fingerprint skips
// them (creating nine indexes one by one cost a start tens of ms), and a new
// list (another fingerprint) makes them again. createIndexes is a no-op for
// an index that exists. Only unique and plain indexes: FerretDB v1 supports both.
import { createHash } from 'node:crypto';
import type { Db, IndexDescription } from 'mongodb';

const INDEXES: Record<string, IndexDescription[]> = {
  members: [
    { key: { email: 1 }, unique: true, name: 'email_unique' },
    { key: { tokenHash: 1 }, name: 'token_hash' }
  ],
  sessions: [
    { key: { memberId: 1 }, name: 'member' },
    { key: { expiresAt: 1 }, name: 'expires' }
  ],
  items: [
    { key: { status: 1, order: 1 }, name: 'column_order' },
    { key: { assigneeId: 1 }, name: 'assignee' }
  ],
  attachments: [{ key: { itemId: 1 }, name: 'item' }],
  invitations_sent: [{ key: { at: 1 }, name: 'at' }],
  signin_throttle: [{ key: { lastAt: 1 }, name: 'last_failure' }]
};

const FINGERPRINT = createHash('sha256').update(JSON.stringify(INDEXES)).digest('hex').slice(0, 16);

interface SchemaMeta {
  _id: 'indexes';
  fingerprint: string;
}

const meta = (db: Db) => db.collection<SchemaMeta>('schema_meta');

/** True when this list of indexes was made already. */
export async function indexesCurrent(db: Db): Promise<boolean> {
  return (await meta(db).findOne({ _id: 'indexes' }))?.fingerprint === FINGERPRINT;
}

export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all(Object.entries(INDEXES).map(([collection, indexes]) => db.collection(collection).createIndexes(indexes)));
  await meta(db).updateOne({ _id: 'indexes' }, { $set: { fingerprint: FINGERPRINT } }, { upsert: true });
}
