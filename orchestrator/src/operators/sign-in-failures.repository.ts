// Failed operator sign-ins, counted per email address whether or not an
// operator has it, so that an unknown address locks exactly like a real one
// and the answers never tell who is an operator. Keyed by the SHA-256 of the
// address (no list of tried addresses at rest); a count with no failure for a
// day starts over, for every address alike.
import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

interface FailureDoc {
  _id: string;
  failures: number;
  lockedUntil?: Date;
  lastAt: Date;
}

export const FAILURES_FORGOTTEN_MS = 24 * 60 * 60 * 1000;
const keyOf = (email: string): string => createHash('sha256').update(`berth-operator-signin:${email}`).digest('hex');

export class SignInFailuresRepository {
  private readonly failures: Collection<FailureDoc>;

  constructor(db: Db) {
    this.failures = db.collection<FailureDoc>('operator_signin_failures');
  }

  async init(): Promise<void> {
    await this.failures.createIndex({ lastAt: 1 });
  }

  /** The lock on this address, if one runs at `now`. */
  async lockedUntil(email: string, now: Date): Promise<Date | undefined> {
    const doc = await this.failures.findOne({ _id: keyOf(email) });
    return doc?.lockedUntil && doc.lockedUntil > now ? doc.lockedUntil : undefined;
  }

  /** Counts one failure; the count so far (a stale count starts over first). */
  async count(email: string, now: Date): Promise<number> {
    await this.failures.deleteMany({ lastAt: { $lt: new Date(now.getTime() - FAILURES_FORGOTTEN_MS) } });
    const doc = await this.failures.findOneAndUpdate({ _id: keyOf(email) }, { $inc: { failures: 1 }, $set: { lastAt: now } }, { upsert: true, returnDocument: 'after' });
    return doc?.failures ?? 1;
  }

  async lock(email: string, until: Date): Promise<void> {
    await this.failures.updateOne({ _id: keyOf(email) }, { $set: { lockedUntil: until } });
  }

  /** A good sign-in, or a new enrolment: the count starts over. */
  async clear(email: string): Promise<void> {
    await this.failures.deleteOne({ _id: keyOf(email) });
  }
}
