// The schema's history. Append only: never edit or reorder a released step.
//
// The rule every step follows (see tenant-app/README.md): the previous app
// version must keep working on the migrated data, so an upgrade is undone by
// redeploying the old image. Steps only add (fields with defaults, indexes,
// collections); a rename or removal takes two releases (write both, then stop
// reading the old one, then drop it). Each step is idempotent: it selects only
// documents that still need it, so re-running it after a crash is safe.
import type { Db } from 'mongodb';

export interface Migration {
  version: number;
  name: string;
  up(db: Db): Promise<void>;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'items-order',
    // Board prototype items had no position: number each column by creation time.
    async up(db) {
      const items = db.collection<{ _id: unknown; status: string; order?: number; createdAt?: Date }>('items');
      const missing = await items.find({ order: { $exists: false } }, { projection: { _id: 1, status: 1, createdAt: 1 } }).sort({ createdAt: 1 }).toArray();
      const next = new Map<string, number>();
      for (const doc of missing) {
        if (!next.has(doc.status)) {
          const last = await items.find({ status: doc.status, order: { $exists: true } }).sort({ order: -1 }).limit(1).next();
          next.set(doc.status, (last?.order ?? 0) + 1);
        }
        const order = next.get(doc.status)!;
        next.set(doc.status, order + 1);
        await items.updateOne({ _id: doc._id, order: { $exists: false } }, { $set: { order } });
      }
    }
  },
  {
    version: 2,
    name: 'items-description-assignee-updatedAt',
    async up(db) {
      const items = db.collection('items');
      await items.updateMany({ description: { $exists: false } }, { $set: { description: '' } });
      await items.updateMany({ assigneeId: { $exists: false } }, { $set: { assigneeId: null } });
      const stale = await items.find({ updatedAt: { $exists: false } }, { projection: { _id: 1, createdAt: 1 } }).toArray();
      for (const doc of stale) await items.updateOne({ _id: doc._id }, { $set: { updatedAt: doc.createdAt ?? new Date(0) } });
    }
  },
  {
    version: 3,
    name: 'members-email-lowercase-and-token-fields',
    // Sign-in compares lower-case addresses; earlier members were stored as typed.
    async up(db) {
      const members = db.collection<{ _id: unknown; email: string }>('members');
      for (const doc of await members.find({}, { projection: { _id: 1, email: 1 } }).toArray()) {
        if (doc.email !== doc.email.toLowerCase()) await members.updateOne({ _id: doc._id }, { $set: { email: doc.email.toLowerCase() } });
      }
      await members.updateMany({ tokenHash: { $exists: false } }, { $set: { tokenHash: null, tokenExpiresAt: null } });
      await members.updateMany({ invitedBy: { $exists: false } }, { $set: { invitedBy: null } });
    }
  }
];
