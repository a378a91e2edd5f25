// The board, held in memory and stamped with a version that every write bumps
// in the database (`meta` {_id:'board'}). A list reads no items: FerretDB v1
// sorts and decodes in its own process, which made a 1,000-item list cost
// ~300 ms of CPU. The whole-board body (JSON bytes and their ETag) is made
// once per version, not once per request.
//
// Freshness. This process's own writes drop the cache as they finish, and a
// load that was in flight across a write is not kept (the generation counter),
// so a member always reads their own writes, and on one instance, the normal
// case, every read is current. The stamp in the database is for the upgrade
// window, when an old and a new instance serve the team side by side: it is
// read again at most every STAMP_TTL_MS (concurrent requests share one read),
// so a write made through the other instance shows here within STAMP_TTL_MS.
import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import { db } from '../db';
import { againOnDuplicate, oneAtATime } from '../in-turn';
import { boardRepository } from './board.repository';
import { toItem, type Item, type ItemFilter } from './board.types';

interface MetaDoc {
  _id: string;
  version: number;
}

/** The whole board as GET /api/items sends it. */
export interface BoardBody {
  json: Uint8Array<ArrayBuffer>;
  /** Strong: a digest of the bytes. */
  etag: string;
}

interface Entry {
  version: number;
  /** The local write generation it was loaded in. */
  generation: number;
  /** When the stamp check that confirmed it started. */
  checkedAt: number;
  items: Item[];
  body?: BoardBody;
}

export const STAMP_TTL_MS = 1000;

const meta = (): Collection<MetaDoc> => db().collection<MetaDoc>('meta');
const versionWrites = oneAtATime();
let cached: Entry | undefined;
/** Bumped when a local write finishes. */
let generation = 0;
/** The stamp check (and reload) under way, shared by the requests that arrive meanwhile. */
let pending: { generation: number; promise: Promise<Entry> } | undefined;

async function currentVersion(): Promise<number> {
  return (await meta().findOne({ _id: 'board' }))?.version ?? 0;
}

/** After every write, so every instance reloads on its next read. */
export async function bumpBoardVersion(): Promise<void> {
  try {
    // In turn: two increments at once could both read the same version and
    // write the same next one, and a member holding it would get a 304 for a
    // board missing the second write. Without the retry, the board's first
    // writes at once met a duplicate key: stored, but answered 500.
    await versionWrites(() => againOnDuplicate(() => meta().updateOne({ _id: 'board' }, { $inc: { version: 1 } }, { upsert: true })));
  } finally {
    generation++;
    cached = undefined;
  }
}

async function load(gen: number): Promise<Entry> {
  const checkedAt = Date.now();
  // Stamp first, then data: a write in between leaves a newer board under an
  // older stamp, which the next check replaces; never the reverse.
  const version = await currentVersion();
  let entry: Entry;
  if (cached && cached.version === version && cached.generation === gen) {
    entry = cached;
    entry.checkedAt = checkedAt;
  } else {
    entry = { version, generation: gen, checkedAt, items: (await boardRepository.list({})).map(toItem) };
  }
  if (generation === gen) cached = entry;
  return entry;
}

/** The board, current as of this process's last write and at most STAMP_TTL_MS behind another instance's. */
async function board(): Promise<Entry> {
  const gen = generation;
  if (cached && cached.generation === gen && Date.now() - cached.checkedAt < STAMP_TTL_MS) return cached;
  if (pending?.generation !== gen) {
    const promise = load(gen).finally(() => {
      if (pending?.promise === promise) pending = undefined;
    });
    pending = { generation: gen, promise };
  }
  return pending.promise;
}

/** The whole board as the body of GET /api/items: serialized and digested once per version. */
export async function boardBody(): Promise<BoardBody> {
  const entry = await board();
  if (!entry.body) {
    const json = new TextEncoder().encode(JSON.stringify({ items: entry.items }));
    entry.body = { json, etag: `"${createHash('sha256').update(json).digest('base64url').slice(0, 32)}"` };
  }
  return entry.body;
}

export async function cachedItems(filter: ItemFilter): Promise<Item[]> {
  const { items } = await board();
  const q = filter.q?.toLowerCase();
  if (!filter.status && !filter.assignee && !q) return items;
  return items.filter(
    (i) =>
      (!filter.status || i.status === filter.status) &&
      (!filter.assignee || i.assigneeId === (filter.assignee === 'none' ? null : filter.assignee)) &&
      (!q || i.title.toLowerCase().includes(q) || i.description.toLowerCase().includes(q))
  );
}
