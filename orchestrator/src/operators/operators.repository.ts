// The `operators` collection: one outside effect, wrapped. Services decide;
// this stores and finds.
import type { Collection, Db, UpdateFilter } from 'mongodb';
import { isDuplicateKey } from '../db/mongo.js';
import { BerthError } from '../errors.js';
import type { OperatorDoc } from './operator.types.js';

export class OperatorsRepository {
  private readonly operators: Collection<OperatorDoc>;

  constructor(db: Db) {
    this.operators = db.collection<OperatorDoc>('operators');
  }

  async init(): Promise<void> {
    await this.operators.createIndex({ email: 1 }, { unique: true });
    await this.operators.createIndex({ setupTokenHash: 1 });
  }

  async insert(doc: OperatorDoc): Promise<void> {
    try {
      await this.operators.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new BerthError('OPERATOR_EXISTS', `an operator with email ${doc.email} already exists`, { field: 'email' });
      throw err;
    }
  }

  get(id: string): Promise<OperatorDoc | null> {
    return this.operators.findOne({ _id: id });
  }

  async mustGet(id: string): Promise<OperatorDoc> {
    const doc = await this.get(id);
    if (!doc) throw new BerthError('OPERATOR_NOT_FOUND', `no operator with id ${JSON.stringify(id)}`);
    return doc;
  }

  byEmail(email: string): Promise<OperatorDoc | null> {
    return this.operators.findOne({ email });
  }

  /** A pending operator whose setup token hashes to this and has not expired. */
  bySetupToken(tokenHash: string, now: Date): Promise<OperatorDoc | null> {
    return this.operators.findOne({ setupTokenHash: tokenHash, setupExpiresAt: { $gt: now }, status: 'pending' });
  }

  list(): Promise<OperatorDoc[]> {
    return this.operators.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
  }

  count(): Promise<number> {
    return this.operators.countDocuments({});
  }

  /** Updates the operator if it still matches `where` (plus its id); the document after, or null when nothing matched. */
  update(id: string, where: Record<string, unknown>, update: UpdateFilter<OperatorDoc>): Promise<OperatorDoc | null> {
    return this.operators.findOneAndUpdate({ ...where, _id: id }, update, { returnDocument: 'after' });
  }
}
