// The backup catalogue in the platform database: one record per backup,
// written before its first byte (running), and marked complete only after its
// manifest is on the target. A process killed in between leaves a running
// record under a dead owner: the restarted orchestrator marks it failed and
// removes its files (backups.service.ts recover), so nothing unfinished ever
// reads as complete. The files on the target are the backup; this is the index.
import type { Collection, Db } from 'mongodb';
import { BerthError } from '../errors.js';
import type { BackupReason, BackupState } from './backups.schema.js';

export interface BackupRecord {
  /** "<tenant>/<id>": a backup's files are under this key on the target. */
  _id: string;
  id: string;
  tenant: string;
  state: BackupState;
  reason: BackupReason;
  createdAt: Date;
  endedAt?: Date;
  target: string;
  appVersion: string;
  plan: string;
  template: string;
  /** The orchestrator process taking it; another owner while running means it died. */
  owner: string;
  operation?: string;
  bytes?: number;
  dataBytes?: number;
  pauseMs?: number;
  durationMs?: number;
  volumes?: { volume: string; entries: number; bytes: number }[];
  error?: { code: string; message: string };
}

/** Records by team, each team's in the order given (list() gives them newest first). */
export function byTenant(records: BackupRecord[]): Map<string, BackupRecord[]> {
  const out = new Map<string, BackupRecord[]>();
  for (const r of records) {
    const mine = out.get(r.tenant);
    if (mine) mine.push(r);
    else out.set(r.tenant, [r]);
  }
  return out;
}

export class BackupsRepository {
  private readonly docs: Collection<BackupRecord>;

  constructor(db: Db) {
    this.docs = db.collection<BackupRecord>('backups');
  }

  async init(): Promise<void> {
    await this.docs.createIndex({ tenant: 1, createdAt: -1 });
    await this.docs.createIndex({ state: 1 });
  }

  async insert(r: BackupRecord): Promise<void> {
    await this.docs.insertOne(r);
  }

  /** Ends a running record: complete with its figures, or failed with why. False when it was not running (recovered meanwhile). */
  async end(key: string, set: Partial<BackupRecord>): Promise<boolean> {
    const r = await this.docs.updateOne({ _id: key, state: 'running' }, { $set: set });
    return r.matchedCount === 1;
  }

  async get(tenant: string, id: string): Promise<BackupRecord | null> {
    return this.docs.findOne({ _id: `${tenant}/${id}` });
  }

  async mustGet(tenant: string, id: string): Promise<BackupRecord> {
    const r = await this.get(tenant, id);
    if (!r) throw new BerthError('BACKUP_NOT_FOUND', `no backup "${id}" of team "${tenant}"; \`berth backup list ${tenant}\` lists them`);
    return r;
  }

  /** Newest first. */
  async list(tenant?: string): Promise<BackupRecord[]> {
    return this.docs.find(tenant ? { tenant } : {}).sort({ createdAt: -1 }).toArray();
  }

  async running(): Promise<BackupRecord[]> {
    return this.docs.find({ state: 'running' }).toArray();
  }

  async remove(key: string): Promise<void> {
    await this.docs.deleteOne({ _id: key });
  }
}
