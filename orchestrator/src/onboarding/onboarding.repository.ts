// Sign-ups in the platform database. The id is the SHA-256 of the browser's
// token; the code only as its HMAC; the client address only as a keyed hash.
// Every step change is one conditional update, so a code is used once and a
// sign-up makes one team even when requests race.
import type { Collection, Db } from 'mongodb';

export type SignupStep = 'code' | 'team' | 'provisioning' | 'locked';

export interface SignupTeam {
  slug: string;
  displayName: string;
  plan: string;
  /** The create (or the retry's create) whose steps the page shows; empty until it is accepted. */
  operationId: string;
  startedAt: Date;
}

export interface SignupDoc {
  _id: string;
  /** Where codes are mailed, as typed (trimmed, lower-cased). */
  email: string;
  /** What the per-email limits count under (email-key.ts: no +tag, Gmail dots folded). */
  emailKey: string;
  ip: string;
  step: SignupStep;
  code?: { hash: string; expiresAt: Date; sentAt: Date };
  /** Codes mailed so far. */
  sends: number;
  /** Codes tried so far (wrong and right). */
  attempts: number;
  createdAt: Date;
  expiresAt: Date;
  verifiedAt?: Date;
  team?: SignupTeam;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class SignupsRepository {
  private readonly signups: Collection<SignupDoc>;

  constructor(db: Db) {
    this.signups = db.collection<SignupDoc>('onboarding_signups');
  }

  async init(): Promise<void> {
    await this.signups.createIndex({ emailKey: 1, createdAt: -1 });
    await this.signups.createIndex({ ip: 1, createdAt: -1 });
    await this.signups.createIndex({ expiresAt: 1 });
  }

  /** Also sweeps sign-ups that expired and no longer count towards a daily limit. */
  async insert(doc: SignupDoc): Promise<void> {
    await this.signups.deleteMany({ expiresAt: { $lte: doc.createdAt }, createdAt: { $lte: new Date(doc.createdAt.getTime() - DAY_MS) } });
    await this.signups.insertOne(doc);
  }

  async remove(id: string): Promise<void> {
    await this.signups.deleteOne({ _id: id });
  }

  /** The sign-up, unless it expired. */
  async live(id: string, now: Date): Promise<SignupDoc | null> {
    return this.signups.findOne({ _id: id, expiresAt: { $gt: now } });
  }

  /** Sign-ups started in the 24 hours before `now` for this email, or from this address. */
  async startedToday(by: { emailKey: string } | { ip: string }, now: Date): Promise<number> {
    return this.signups.countDocuments({ ...by, createdAt: { $gt: new Date(now.getTime() - DAY_MS) } });
  }

  /** A new code replaces the old one; false when the sign-up is past the code step. */
  async setCode(id: string, code: NonNullable<SignupDoc['code']>): Promise<boolean> {
    return (await this.signups.updateOne({ _id: id, step: 'code' }, { $set: { code }, $inc: { sends: 1 } })).modifiedCount === 1;
  }

  /** Counts one try, unless `max` were made already; the counted sign-up, or null. */
  async countAttempt(id: string, max: number): Promise<SignupDoc | null> {
    return this.signups.findOneAndUpdate({ _id: id, step: 'code', attempts: { $lt: max } }, { $inc: { attempts: 1 } }, { returnDocument: 'after' });
  }

  /** Uses the code up; false when another request used it first. */
  async markVerified(id: string, codeHash: string, now: Date): Promise<boolean> {
    const res = await this.signups.updateOne({ _id: id, step: 'code', 'code.hash': codeHash }, { $set: { step: 'team', verifiedAt: now }, $unset: { code: '' } });
    return res.modifiedCount === 1;
  }

  async lock(id: string): Promise<void> {
    await this.signups.updateOne({ _id: id, step: 'code' }, { $set: { step: 'locked' }, $unset: { code: '' } });
  }

  /** Moves team → provisioning with the chosen team; null when the sign-up was not at the team step. */
  async claimTeam(id: string, team: SignupTeam): Promise<SignupDoc | null> {
    return this.signups.findOneAndUpdate({ _id: id, step: 'team' }, { $set: { step: 'provisioning', team } }, { returnDocument: 'after' });
  }

  /** Back to the team step: the create was refused before anything was made. */
  async releaseTeam(id: string): Promise<void> {
    await this.signups.updateOne({ _id: id, step: 'provisioning' }, { $set: { step: 'team' }, $unset: { team: '' } });
  }

  async setOperation(id: string, operationId: string): Promise<void> {
    await this.signups.updateOne({ _id: id, step: 'provisioning' }, { $set: { 'team.operationId': operationId } });
  }
}
