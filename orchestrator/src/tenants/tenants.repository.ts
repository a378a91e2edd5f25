// The registry: desired state of every tenant, in the control plane's MongoDB.
// The operation lock lives on the document, so "one operation per tenant" holds
// across processes and survives a crash (the reconciler finds it).
//
// The orchestrator is the registry's only writer (Berth runs one orchestrator
// per platform database; nothing else writes tenants), so reads are answered
// from memory:
// every document is loaded once at init() and every write goes to MongoDB
// first and then replaces the cached document with the one MongoDB returned.
// Listing 2,000 tenants costs a sort in memory instead of a FerretDB scan
// (167 ms at 1,000 before). Cached documents are frozen: a caller that wants
// to change one makes a copy, so the cache never drifts from the database.
import type { Collection, Db, UpdateFilter } from 'mongodb';
import { BerthError } from '../errors.js';
import { isDuplicateKey } from '../db/mongo.js';
import type { Sealed } from '../crypto/secret-box.js';
import type { Operation, Phase, TenantDoc } from './tenant.types.js';

/** What a deletion that kept the data keeps too: the sealed secrets that open it. */
export interface RetainedSecrets {
  _id: string;
  secrets: Sealed;
  deletedAt: Date;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class TenantsRepository {
  private readonly tenants: Collection<TenantDoc>;
  private readonly retained: Collection<RetainedSecrets>;
  /** slug -> the document as MongoDB last returned it (frozen). */
  private readonly cache = new Map<string, TenantDoc>();
  private changes = 0;

  constructor(db: Db) {
    this.tenants = db.collection<TenantDoc>('tenants');
    this.retained = db.collection<RetainedSecrets>('retained_secrets');
  }

  async retain(slug: string, secrets: Sealed): Promise<void> {
    await this.retained.replaceOne({ _id: slug }, { secrets, deletedAt: new Date() }, { upsert: true });
  }

  async retainedSecrets(slug: string): Promise<Sealed | undefined> {
    return (await this.retained.findOne({ _id: slug }))?.secrets;
  }

  async forgetRetained(slug: string): Promise<void> {
    await this.retained.deleteOne({ _id: slug });
  }

  async init(): Promise<void> {
    await this.tenants.createIndex({ port: 1 }, { unique: true });
    await this.tenants.createIndex({ phase: 1 });
    this.cache.clear();
    for (const doc of await this.tenants.find({}).toArray()) this.cache.set(doc._id, deepFreeze(doc));
    this.changes++;
  }

  /** Changes with every document the registry keeps, adds or drops: readers keep what they made of it until then. */
  get version(): number {
    return this.changes;
  }

  /** Keeps what MongoDB answered; null (no match) changes nothing. */
  private remember(doc: TenantDoc | null): TenantDoc | null {
    if (doc) {
      this.cache.set(doc._id, deepFreeze(doc));
      this.changes++;
    }
    return doc;
  }

  /** Inserts a new tenant; TENANT_EXISTS when the slug is taken, 'port-taken' when the port is. */
  async insert(doc: TenantDoc): Promise<'ok' | 'port-taken'> {
    try {
      await this.tenants.insertOne(doc);
      // Read back: the cache holds what MongoDB stored (undefined fields, types), not our object.
      this.remember(await this.tenants.findOne({ _id: doc._id }));
      return 'ok';
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Which unique index refused it: the slug (_id) or the port.
      if (!(await this.get(doc._id))) return 'port-taken';
      throw new BerthError('TENANT_EXISTS', `tenant "${doc._id}" already exists; choose another slug or delete it first`);
    }
  }

  async get(slug: string): Promise<TenantDoc | null> {
    return this.cache.get(slug) ?? null;
  }

  async mustGet(slug: string): Promise<TenantDoc> {
    const doc = await this.get(slug);
    if (!doc) throw new BerthError('TENANT_NOT_FOUND', `no tenant "${slug}"`);
    return doc;
  }

  async list(filter: { phase?: Phase } = {}): Promise<TenantDoc[]> {
    const docs = [...this.cache.values()].filter((d) => !filter.phase || d.phase === filter.phase);
    return docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  }

  /** Ports tenants publish on, and those upgrades in progress are about to. */
  async usedPorts(): Promise<Set<number>> {
    return new Set([...this.cache.values()].flatMap((d) => (d.nextPort ? [d.port, d.nextPort] : [d.port])));
  }

  /** Whether a tenant other than `slug` publishes on, or is about to take, `port`. */
  async portTakenByOther(port: number, slug: string): Promise<boolean> {
    for (const d of this.cache.values()) if (d._id !== slug && (d.port === port || d.nextPort === port)) return true;
    return false;
  }

  async countByPhase(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const d of this.cache.values()) counts[d.phase] = (counts[d.phase] ?? 0) + 1;
    return counts;
  }

  /**
   * Takes the tenant's operation lock when no operation holds it and the phase
   * allows; returns the updated document, or throws 404 / 409.
   */
  async beginOperation(slug: string, op: Operation, allowed: readonly Phase[], set: Partial<TenantDoc> = {}): Promise<TenantDoc> {
    const doc = this.remember(await this.tenants.findOneAndUpdate(
      { _id: slug, operation: { $exists: false }, phase: { $in: [...allowed] } },
      { $set: { ...set, operation: op, updatedAt: new Date() } },
      { returnDocument: 'after' }
    ));
    if (doc) return doc;
    const current = await this.mustGet(slug);
    if (current.operation) {
      throw new BerthError('OPERATION_CONFLICT', `tenant "${slug}" is busy: ${current.operation.kind} (operation ${current.operation.id}) is in progress; wait for it to end`);
    }
    throw new BerthError('OPERATION_CONFLICT', `cannot ${op.kind} tenant "${slug}" while it is ${current.phase} (allowed: ${allowed.join(', ')})`);
  }

  async setStep(slug: string, opId: string, step: string): Promise<void> {
    this.remember(await this.tenants.findOneAndUpdate({ _id: slug, 'operation.id': opId }, { $set: { 'operation.step': step, updatedAt: new Date() } }, { returnDocument: 'after' }));
  }

  /** An update that applies only while operation `opId` holds the tenant; false when it no longer does. */
  async updateUnderOperation(slug: string, opId: string, update: UpdateFilter<TenantDoc>): Promise<boolean> {
    return this.remember(await this.tenants.findOneAndUpdate({ _id: slug, 'operation.id': opId }, { ...update, $currentDate: { updatedAt: true } }, { returnDocument: 'after' })) !== null;
  }

  async endOperation(slug: string, opId: string, update: UpdateFilter<TenantDoc>): Promise<void> {
    // The caller's own $unset (e.g. lastError after a success) is kept, not replaced.
    this.remember(await this.tenants.findOneAndUpdate({ _id: slug, 'operation.id': opId }, { ...update, $unset: { ...update.$unset, operation: '' }, $currentDate: { updatedAt: true } }, { returnDocument: 'after' }));
  }

  async update(slug: string, update: UpdateFilter<TenantDoc>): Promise<TenantDoc | null> {
    return this.remember(await this.tenants.findOneAndUpdate({ _id: slug }, { ...update, $currentDate: { updatedAt: true } }, { returnDocument: 'after' }));
  }

  async remove(slug: string, opId: string): Promise<void> {
    const res = await this.tenants.deleteOne({ _id: slug, 'operation.id': opId });
    if (res.deletedCount > 0) {
      this.cache.delete(slug);
      this.changes++;
    }
  }
}
