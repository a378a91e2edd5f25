// The audit log: who did (or tried) which write, to what, and how it ended.
// Entries hold the route pattern and its params, never a body or a token:
// bodies can carry secrets, and a log of secrets is a second place to leak them.
import type { Collection, Db, Filter } from 'mongodb';
import { AUDIT_MAX_LIMIT } from './audit.schema.js';

export interface AuditEntry {
  at: Date;
  /** The token that made the request; null when none was valid (a refused 401, or a public route). */
  actor: { tokenId: string; name: string } | null;
  /** Method and route pattern: "POST /api/v1/tenants/:slug/actions/:action". */
  action: string;
  /** Route params: `slug` as tenant, `id` as id, any other under its own name. */
  target: { tenant?: string; id?: string; [param: string]: string | undefined };
  status: number;
  /** "ok" for a success, else the error code answered (UNAUTHENTICATED, FORBIDDEN, ...). */
  result: string;
  ip: string;
}

export interface AuditQuery {
  /** A token id or a token name. */
  actor?: string;
  action?: string;
  tenant?: string;
  result?: string;
  since?: Date;
  limit?: number;
}

const DEFAULT_LIMIT = 100;

export class AuditRepository {
  private readonly entries: Collection<AuditEntry>;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(db: Db) {
    this.entries = db.collection<AuditEntry>('audit_log');
  }

  async init(): Promise<void> {
    await this.entries.createIndex({ at: -1 });
    await this.entries.createIndex({ 'target.tenant': 1, at: -1 });
    await this.entries.createIndex({ 'actor.tokenId': 1, at: -1 });
  }

  async record(entry: AuditEntry): Promise<void> {
    // A copy: insertOne adds _id to what it is given.
    const write = this.entries.insertOne({ ...entry, actor: entry.actor && { ...entry.actor }, target: { ...entry.target } });
    this.pending.add(write);
    try {
      await write;
    } finally {
      this.pending.delete(write);
    }
  }

  /** Waits for the writes under way (at shutdown, and in tests), whether they succeed or not. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Newest first. */
  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const filter: Filter<AuditEntry> = {};
    if (query.actor) filter.$or = [{ 'actor.tokenId': query.actor }, { 'actor.name': query.actor }];
    if (query.action) filter.action = query.action;
    if (query.tenant) filter['target.tenant'] = query.tenant;
    if (query.result) filter.result = query.result;
    if (query.since) filter.at = { $gte: query.since };
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), AUDIT_MAX_LIMIT);
    return this.entries.find(filter, { projection: { _id: 0 } }).sort({ at: -1, _id: -1 }).limit(limit).toArray();
  }
}
