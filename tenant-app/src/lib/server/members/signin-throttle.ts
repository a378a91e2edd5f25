// Guessing passwords is slow: failed sign-ins are counted per account (the
// email, known or not, so the answers never tell which addresses are
// members) and per client address, in the team's database so a restart
// forgets nothing. Past a few free failures each further one locks that key
// for twice as long as the last (30 s, 60 s, ... up to 15 min); while either
// key is locked the sign-in is refused with 429 and Retry-After, before any
// password is checked. A good sign-in clears the account's count, not the
// address's (else one real account would reset a guesser's count); counts
// with no failure for an hour start over.
import { createHash } from 'node:crypto';
import { db } from '../db';
import { againOnDuplicate, oneAtATime } from '../in-turn';
import { AppError } from '../errors';

interface ThrottleDoc {
  _id: string;
  failures: number;
  lockedUntil?: Date;
  lastAt: Date;
}

/** Failures allowed before the first lock: an account has fewer than an address, which serves many people. */
export const FREE_FAILURES = { account: 5, address: 20 } as const;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
const FORGET_MS = 60 * 60_000;

const collection = () => db().collection<ThrottleDoc>('signin_throttle');
const accountKey = (email: string) => `account:${createHash('sha256').update(email).digest('hex')}`;
const addressKeyOf = (address: string) => `address:${address}`;

export function lockMs(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(FIRST_LOCK_MS * 2 ** (failures - free), MAX_LOCK_MS);
}

function tooMany(until: Date, now: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new AppError('TOO_MANY_ATTEMPTS', `too many failed sign-ins: wait ${seconds} s, then try again`, undefined, seconds);
}

/** Refuses (429) while the account or the address is locked. */
export async function assertNotThrottled(email: string, address: string, now = new Date()): Promise<void> {
  const docs = await collection().find({ _id: { $in: [accountKey(email), addressKeyOf(address)] }, lockedUntil: { $gt: now } }).toArray();
  const until = docs.reduce<Date | undefined>((latest, d) => (!latest || d.lockedUntil! > latest ? d.lockedUntil! : latest), undefined);
  if (until) throw tooMany(until, now);
}

const countWrites = oneAtATime();

/**
 * One more failure on `key`, never lost (a lost one is a free guess) nor
 * answered 500: guesses sent at once take their turn (two increments at once
 * can lose one on FerretDB), and a first count raced by another process is
 * made again on its duplicate key.
 */
function countOne(key: string, now: Date) {
  return countWrites(() => againOnDuplicate(() => collection().findOneAndUpdate({ _id: key }, { $inc: { failures: 1 }, $set: { lastAt: now } }, { upsert: true, returnDocument: 'after' })));
}

/** Counts a failure for both keys; throws 429 when it locks either. */
export async function countFailure(email: string, address: string, now = new Date()): Promise<void> {
  await collection().deleteMany({ lastAt: { $lt: new Date(now.getTime() - FORGET_MS) } });
  let until: Date | undefined;
  for (const [key, free] of [[accountKey(email), FREE_FAILURES.account], [addressKeyOf(address), FREE_FAILURES.address]] as const) {
    const doc = await countOne(key, now);
    const ms = lockMs(doc?.failures ?? 1, free);
    if (ms === 0) continue;
    const keyUntil = new Date(now.getTime() + ms);
    await collection().updateOne({ _id: key }, { $set: { lockedUntil: keyUntil } });
    if (!until || keyUntil > until) until = keyUntil;
  }
  if (until) throw tooMany(until, now);
}

export async function clearAccount(email: string): Promise<void> {
  await collection().deleteOne({ _id: accountKey(email) });
}
