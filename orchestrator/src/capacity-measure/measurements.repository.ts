// Capacity measurements in the control plane's MongoDB: one document each,
// the report itself, written by the one run that makes it after every phase,
// so a console open on it follows along and a restarted orchestrator finds
// what a dead one left (its load teams are named in it, to be removed).
import type { Collection, Db } from 'mongodb';
import { BerthError } from '../errors.js';
import type { Measurement } from './measurement.schema.js';

type MeasurementDoc = Omit<Measurement, 'id'> & { _id: string };

const toView = ({ _id, ...rest }: MeasurementDoc): Measurement => ({ id: _id, ...rest });

export class MeasurementsRepository {
  private readonly docs: Collection<MeasurementDoc>;

  constructor(db: Db) {
    this.docs = db.collection<MeasurementDoc>('capacity_measurements');
  }

  async init(): Promise<void> {
    await this.docs.createIndex({ startedAt: -1 });
    await this.docs.createIndex({ state: 1 });
  }

  async insert(m: Measurement): Promise<void> {
    const { id, ...rest } = m;
    await this.docs.insertOne({ _id: id, ...rest });
  }

  async save(m: Measurement): Promise<void> {
    const { id, ...rest } = m;
    await this.docs.replaceOne({ _id: id }, rest);
  }

  async mustGet(id: string): Promise<Measurement> {
    const doc = await this.docs.findOne({ _id: id });
    if (!doc) throw new BerthError('MEASUREMENT_NOT_FOUND', `no capacity measurement "${id}"`);
    return toView(doc);
  }

  /** Newest first. */
  async list(limit: number): Promise<Measurement[]> {
    return (await this.docs.find({}).sort({ startedAt: -1 }).limit(limit).toArray()).map(toView);
  }

  async running(): Promise<Measurement[]> {
    return (await this.docs.find({ state: 'running' }).toArray()).map(toView);
  }
}
