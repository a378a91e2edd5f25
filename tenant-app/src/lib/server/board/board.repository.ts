import type { Filter } from 'mongodb';
import { collections } from '../db';
import type { ItemDoc, ItemFilter, Status } from './board.types';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const boardRepository = {
  list(filter: ItemFilter): Promise<ItemDoc[]> {
    const query: Filter<ItemDoc> = {};
    if (filter.status) query.status = filter.status;
    if (filter.assignee) query.assigneeId = filter.assignee === 'none' ? null : filter.assignee;
    if (filter.q) {
      const re = new RegExp(escapeRegex(filter.q), 'i');
      query.$or = [{ title: re }, { description: re }];
    }
    return collections.items().find(query).sort({ status: 1, order: 1 }).toArray();
  },
  byId: (id: string) => collections.items().findOne({ _id: id }),
  /** The column's items in order, without `exceptId`; only the fields a move needs. */
  column: (status: Status, exceptId: string) =>
    collections.items().find({ status, _id: { $ne: exceptId } }, { projection: { _id: 1, order: 1 } }).sort({ order: 1 }).toArray(),
  async lastOrder(status: Status): Promise<number> {
    const last = await collections.items().find({ status }, { projection: { order: 1 } }).sort({ order: -1 }).limit(1).next();
    return last?.order ?? 0;
  },
  insert: async (doc: ItemDoc) => {
    await collections.items().insertOne(doc);
  },
  update: (id: string, set: Partial<ItemDoc>) =>
    collections.items().findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' }),
  remove: async (id: string) => (await collections.items().deleteOne({ _id: id })).deletedCount === 1,
  unassignAll: async (memberId: string) => {
    await collections.items().updateMany({ assigneeId: memberId }, { $set: { assigneeId: null } });
  }
};
