// The board, held in memory and stamped with a version that every write bumps
// in the database (`meta` {_id:'board'}). A list costs one tiny query to read
// the stamp instead of fetching and decoding every item: FerretDB v1 sorts
// and decodes in its own process, which made a 1,000-item list cost ~300 ms
// of CPU. The stamp lives in the database, not in memory, so a second
// instance (old and new side by side during an upgrade) never serves a stale
// board for longer than its own next request.
import type { Collection } from 'mongodb';
import { db } from '../db';
import { boardRepository } from './board.repository';
import { toItem, type Item, type ItemFilter } from './board.types';

interface MetaDoc {
  _id: string;
  version: number;
}

const meta = (): Collection<MetaDoc> => db().collection<MetaDoc>('meta');
let cached: { version: number; items: Item[]; json?: string } | undefined;

async function currentVersion(): Promise<number> {
  return (await meta().findOne({ _id: 'board' }))?.version ?? 0;
}

/** After every write, so every instance reloads on its next read. */
export async function bumpBoardVersion(): Promise<void> {
  await meta().updateOne({ _id: 'board' }, { $inc: { version: 1 } }, { upsert: true });
  cached = undefined;
}

/** Every item, in column order (status, then order). */
async function allItems(): Promise<Item[]> {
  // Stamp first, then data: a write in between leaves a newer board under an
  // older stamp, which the next read replaces; never the reverse.
  const version = await currentVersion();
  if (cached?.version !== version) cached = { version, items: (await boardRepository.list({})).map(toItem) };
  return cached.items;
}

/** The whole board as the JSON body of GET /api/items, serialized once per version. */
export async function boardJson(): Promise<string> {
  const items = await allItems();
  const entry = cached;
  if (entry && entry.items === items) return (entry.json ??= JSON.stringify({ items }));
  return JSON.stringify({ items });
}

export async function cachedItems(filter: ItemFilter): Promise<Item[]> {
  const items = await allItems();
  const q = filter.q?.toLowerCase();
  if (!filter.status && !filter.assignee && !q) return items;
  return items.filter(
    (i) =>
      (!filter.status || i.status === filter.status) &&
      (!filter.assignee || i.assigneeId === (filter.assignee === 'none' ? null : filter.assignee)) &&
      (!q || i.title.toLowerCase().includes(q) || i.description.toLowerCase().includes(q))
  );
}
