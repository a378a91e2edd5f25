// Indexes, created (or confirmed) at every start; createIndex is a no-op when
// the same index exists. Only unique and plain indexes: FerretDB v1 supports both.
import type { Db } from 'mongodb';

export async function ensureIndexes(db: Db): Promise<void> {
  await db.collection('members').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
  await db.collection('members').createIndex({ tokenHash: 1 }, { name: 'token_hash' });
  await db.collection('sessions').createIndex({ memberId: 1 }, { name: 'member' });
  await db.collection('sessions').createIndex({ expiresAt: 1 }, { name: 'expires' });
  await db.collection('items').createIndex({ status: 1, order: 1 }, { name: 'column_order' });
  await db.collection('items').createIndex({ assigneeId: 1 }, { name: 'assignee' });
  await db.collection('attachments').createIndex({ itemId: 1 }, { name: 'item' });
  await db.collection('invitations_sent').createIndex({ at: 1 }, { name: 'at' });
  await db.collection('signin_throttle').createIndex({ lastAt: 1 }, { name: 'last_failure' });
}
