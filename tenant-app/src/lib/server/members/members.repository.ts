import { collections } from '../db';
import type { MemberDoc } from './members.types';

export const membersRepository = {
  byId: (id: string) => collections.members().findOne({ _id: id }),
  byEmail: (email: string) => collections.members().findOne({ email }),
  byTokenHash: (tokenHash: string) => collections.members().findOne({ tokenHash }),
  owner: () => collections.members().findOne({ role: 'owner' }),
  list: () => collections.members().find({}).sort({ createdAt: 1 }).toArray(),
  insert: async (doc: MemberDoc) => {
    await collections.members().insertOne(doc);
  },
  /** Consumes a one-time token: matches only while it is still unused. */
  activate: (id: string, tokenHash: string, name: string, passwordHash: string) =>
    collections.members().findOneAndUpdate(
      { _id: id, tokenHash },
      { $set: { name, passwordHash, status: 'active', tokenHash: null, tokenExpiresAt: null } },
      { returnDocument: 'after' }
    ),
  /** A still-pending member gets a new one-time link (the old one stops working); null once they chose a password. */
  rearm: (id: string, tokenHash: string, tokenExpiresAt: Date | null) =>
    collections.members().findOneAndUpdate({ _id: id, status: 'pending' }, { $set: { tokenHash, tokenExpiresAt } }, { returnDocument: 'after' }),
  remove: async (id: string) => (await collections.members().deleteOne({ _id: id })).deletedCount === 1
};
