// The registry: desired state of every tenant, in the control plane's MongoDB.
// The operation lock lives on the document, so "one operation per tenant" holds
// across processes and survives a crash (the reconciler finds it).
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

export class TenantsRepository {
  private readonly tenants: Collection<TenantDoc>;
  private readonly retained: Collection<RetainedSecrets>;

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
  }

  /** Inserts a new tenant; TENANT_EXISTS when the slug is taken, 'port-taken' when the port is. */
  async insert(doc: TenantDoc): Promise<'ok' | 'port-taken'> {
    try {
      await this.tenants.insertOne(doc);
      return 'ok';
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Which unique index refused it: the slug (_id) or the port.
      if (!(await this.get(doc._id))) return 'port-taken';
      throw new BerthError('TENANT_EXISTS', `tenant "${doc._id}" already exists; choose another slug or delete it first`);
    }
  }

  async get(slug: string): Promise<TenantDoc | null> {
    return this.tenants.findOne({ _id: slug });
  }

  async mustGet(slug: string): Promise<TenantDoc> {
    const doc = await this.get(slug);
    if (!doc) throw new BerthError('TENANT_NOT_FOUND', `no tenant "${slug}"`);
    return doc;
  }

  async list(filter: { phase?: Phase } = {}): Promise<TenantDoc[]> {
    return this.tenants.find(filter.phase ? { phase: filter.phase } : {}).sort({ _id: 1 }).toArray();
  }

  /** Ports tenants publish on, and those upgrades in progress are about to. */
  async usedPorts(): Promise<Set<number>> {
    const docs = await this.tenants.find({}, { projection: { port: 1, nextPort: 1 } }).toArray();
    return new Set(docs.flatMap((d) => (d.nextPort ? [d.port, d.nextPort] : [d.port])));
  }

  /** Whether a tenant other than `slug` publishes on, or is about to take, `port`. */
  async portTakenByOther(port: number, slug: string): Promise<boolean> {
    return (await this.tenants.countDocuments({ _id: { $ne: slug }, $or: [{ port }, { nextPort: port }] })) > 0;
  }

  async countByPhase(): Promise<Record<string, number>> {
    const rows = await this.tenants.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$phase', n: { $sum: 1 } } }]).toArray();
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  }

  /**
   * Takes the tenant's operation lock when no operation holds it and the phase
   * allows; returns the updated document, or throws 404 / 409.
   */
  async beginOperation(slug: string, op: Operation, allowed: readonly Phase[], set: Partial<TenantDoc> = {}): Promise<TenantDoc> {
    const doc = await this.tenants.findOneAndUpdate(
      { _id: slug, operation: { $exists: false }, phase: { $in: [...allowed] } },
      { $set: { ...set, operation: op, updatedAt: new Date() } },
      { returnDocument: 'after' }
    );
    if (doc) return doc;
    const current = await this.mustGet(slug);
    if (current.operation) {
      throw new BerthError('OPERATION_CONFLICT', `tenant "${slug}" is busy: ${current.operation.kind} (operation ${current.operation.id}) is in progress; wait for it to end`);
    }
    throw new BerthError('OPERATION_CONFLICT', `cannot ${op.kind} tenant "${slug}" while it is ${current.phase} (allowed: ${allowed.join(', ')})`);
  }

  async setStep(slug: string, opId: string, step: string): Promise<void> {
    await this.tenants.updateOne({ _id: slug, 'operation.id': opId }, { $set: { 'operation.step': step, updatedAt: new Date() } });
  }

  /** An update that applies only while operation `opId` holds the tenant; false when it no longer does. */
  async updateUnderOperation(slug: string, opId: string, update: UpdateFilter<TenantDoc>): Promise<boolean> {
    const res = await this.tenants.updateOne({ _id: slug, 'operation.id': opId }, { ...update, $currentDate: { updatedAt: true } });
    return res.matchedCount > 0;
  }

  async endOperation(slug: string, opId: string, update: UpdateFilter<TenantDoc>): Promise<void> {
    // The caller's own $unset (e.g. lastError after a success) is kept, not replaced.
    await this.tenants.updateOne({ _id: slug, 'operation.id': opId }, { ...update, $unset: { ...update.$unset, operation: '' }, $currentDate: { updatedAt: true } });
  }

  async update(slug: string, update: UpdateFilter<TenantDoc>): Promise<TenantDoc | null> {
    return this.tenants.findOneAndUpdate({ _id: slug }, { ...update, $currentDate: { updatedAt: true } }, { returnDocument: 'after' });
  }

  async remove(slug: string, opId: string): Promise<void> {
    await this.tenants.deleteOne({ _id: slug, 'operation.id': opId });
  }
}
