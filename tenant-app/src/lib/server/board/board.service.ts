// The backlog board: every write publishes an event so open boards update.
import { AppError } from '../errors';
import type { Member } from '../members/members.types';
import { memberById } from '../members/members.service';
import { hub } from '../realtime/hub';
import { randomId } from '../tokens';
import { removeAllAttachments } from '../attachments/attachments.service';
import { boardRepository as repo } from './board.repository';
import { boardBody, bumpBoardVersion, cachedItems, type BoardBody } from './board.cache';
import { toItem, type Item, type ItemDoc, type ItemFilter, type ItemInput, type Status } from './board.types';
import { cleanItemInput } from './board.validate';

async function checkAssignee(assigneeId: string | null | undefined): Promise<void> {
  if (assigneeId && !(await memberById(assigneeId))) {
    throw new AppError('VALIDATION', 'check the fields below', { assigneeId: 'choose a member of the team' });
  }
}

export async function listItems(filter: ItemFilter): Promise<Item[]> {
  return cachedItems(filter);
}

/** GET /api/items without filters: the common case, answered from a cached body. */
export function listAllBody(): Promise<BoardBody> {
  return boardBody();
}

export async function getItem(id: string): Promise<Item> {
  const doc = await repo.byId(id);
  if (!doc) throw new AppError('NOT_FOUND', 'no such item');
  return toItem(doc);
}

export async function createItem(by: Member, raw: Record<string, unknown>): Promise<Item> {
  const input = cleanItemInput(raw, false) as ItemInput;
  await checkAssignee(input.assigneeId);
  const now = new Date();
  const doc: ItemDoc = { _id: randomId(), ...input, order: (await repo.lastOrder(input.status)) + 1, createdBy: by.id, createdAt: now, updatedAt: now };
  await repo.insert(doc);
  await bumpBoardVersion();
  const item = toItem(doc);
  hub.publish({ type: 'item.created', item, by: by.id });
  return item;
}

export async function updateItem(by: Member, id: string, raw: Record<string, unknown>): Promise<Item> {
  const input = cleanItemInput(raw, true);
  await checkAssignee(input.assigneeId);
  const set: Partial<ItemDoc> = { ...input, updatedAt: new Date() };
  if (input.status) {
    // A column change through an edit lands at the end of the new column.
    const current = await repo.byId(id);
    if (current && current.status !== input.status) set.order = (await repo.lastOrder(input.status)) + 1;
  }
  const doc = await repo.update(id, set);
  if (!doc) throw new AppError('NOT_FOUND', 'no such item');
  await bumpBoardVersion();
  const item = toItem(doc);
  hub.publish({ type: 'item.updated', item, by: by.id });
  return item;
}

/** Puts the item at `index` (0 = top) of `status`'s column. */
export async function moveItem(by: Member, id: string, status: Status, index: number): Promise<Item> {
  const column = await repo.column(status, id);
  const at = Math.min(index, column.length);
  const before = column[at - 1]?.order;
  const after = column[at]?.order;
  const order = before === undefined ? (after === undefined ? 1 : after - 1) : after === undefined ? before + 1 : (before + after) / 2;
  const doc = await repo.update(id, { status, order, updatedAt: new Date() });
  if (!doc) throw new AppError('NOT_FOUND', 'no such item');
  await bumpBoardVersion();
  const item = toItem(doc);
  hub.publish({ type: 'item.updated', item, by: by.id });
  return item;
}

/** The item's creator or the owner may delete it; its attachments go with it. */
export async function deleteItem(by: Member, id: string): Promise<void> {
  const doc = await repo.byId(id);
  if (!doc) throw new AppError('NOT_FOUND', 'no such item');
  if (doc.createdBy !== by.id && by.role !== 'owner') throw new AppError('FORBIDDEN', 'only who created the item, or the owner, deletes it');
  await removeAllAttachments(id);
  await repo.remove(id);
  await bumpBoardVersion();
  hub.publish({ type: 'item.deleted', itemId: id, by: by.id });
}

/** After a member is removed, their items become unassigned (and open boards hear of it). */
export async function unassignMember(by: Member, memberId: string): Promise<void> {
  const affected = await repo.list({ assignee: memberId });
  await repo.unassignAll(memberId);
  await bumpBoardVersion();
  for (const doc of affected) hub.publish({ type: 'item.updated', item: { ...toItem(doc), assigneeId: null }, by: by.id });
}
