// Upgrade jobs in the control plane's MongoDB. The job's state is the
// control channel (operators' approve/pause/resume/cancel and the runner
// change it only by conditional transitions); its per-tenant progress is
// written by the one runner that drives it, after every change, so a
// restarted orchestrator resumes where the job stood.
import type { Collection, Db } from 'mongodb';
import { BerthError } from '../errors.js';
import { ACTIVE_STATES, type JobState, type JobTenant, type UpgradeJob } from './upgrade.types.js';

export class UpgradesRepository {
  private readonly jobs: Collection<UpgradeJob>;

  constructor(db: Db) {
    this.jobs = db.collection<UpgradeJob>('upgrade_jobs');
  }

  async init(): Promise<void> {
    await this.jobs.createIndex({ state: 1 });
    await this.jobs.createIndex({ createdAt: -1 });
  }

  async insert(job: UpgradeJob): Promise<void> {
    await this.jobs.insertOne(job);
  }

  async get(id: string): Promise<UpgradeJob | null> {
    return this.jobs.findOne({ _id: id });
  }

  async mustGet(id: string): Promise<UpgradeJob> {
    const job = await this.get(id);
    if (!job) throw new BerthError('UPGRADE_NOT_FOUND', `no upgrade job "${id}"`);
    return job;
  }

  /** Newest first. */
  async list(limit: number): Promise<UpgradeJob[]> {
    return this.jobs.find({}).sort({ createdAt: -1 }).limit(limit).toArray();
  }

  /** Jobs not yet at an end: running, awaiting approval or paused. */
  async active(): Promise<UpgradeJob[]> {
    return this.jobs.find({ state: { $in: [...ACTIVE_STATES] } }).sort({ createdAt: 1 }).toArray();
  }

  /** Moves the job from one of `from` to `to`; null when it was in none of them. */
  async transition(id: string, from: readonly JobState[], to: JobState, set: Partial<UpgradeJob> = {}): Promise<UpgradeJob | null> {
    return this.jobs.findOneAndUpdate(
      { _id: id, state: { $in: [...from] } },
      { $set: { ...set, state: to, updatedAt: new Date() } },
      { returnDocument: 'after' }
    );
  }

  async saveTenants(id: string, tenants: JobTenant[]): Promise<void> {
    await this.jobs.updateOne({ _id: id }, { $set: { tenants, updatedAt: new Date() } });
  }

  async claim(id: string, owner: string): Promise<void> {
    await this.jobs.updateOne({ _id: id }, { $set: { owner, updatedAt: new Date() } });
  }
}
