// Sign-in: email + password + TOTP code → a new session. Every failure looks
// the same (INVALID_CREDENTIALS), whether the email exists or not, and an
// unknown email costs the same scrypt work as a known one. Five failures in a
// row lock the account, 30 s the first time and doubling with each further
// failure up to an hour; a good sign-in clears the count. A code is good once:
// its time step must be newer than the last one used, and that is checked and
// recorded in one conditional update, so two sign-ins racing with one code
// cannot both win.
import { BerthError } from '../errors.js';
import type { OperatorDoc } from './operator.types.js';
import type { OperatorsRepository } from './operators.repository.js';
import { normalizeEmail, type OperatorsService } from './operators.service.js';
import { dummyHash, verifyPassword } from './passwords.js';
import type { SessionsService } from './sessions.service.js';
import type { Totp } from './totp.js';

export const FAILURES_BEFORE_LOCK = 5;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 60 * 60 * 1000;

/** How long the n-th consecutive failure locks the account for (0 below the threshold). */
export function lockDurationMs(failures: number): number {
  if (failures < FAILURES_BEFORE_LOCK) return 0;
  return Math.min(FIRST_LOCK_MS * 2 ** (failures - FAILURES_BEFORE_LOCK), MAX_LOCK_MS);
}

export interface SignInResult {
  session: string;
  expiresAt: Date;
  operator: { id: string; email: string; name: string };
}

export interface SignInDeps {
  repo: OperatorsRepository;
  operators: OperatorsService;
  sessions: SessionsService;
  totp: Totp;
  clock: () => Date;
}

const invalid = () => new BerthError('INVALID_CREDENTIALS', 'wrong email, password or code');

export class SignInService {
  constructor(private readonly d: SignInDeps) {}

  async signIn(input: { email: string; password: string; code: string }): Promise<SignInResult> {
    const doc = await this.d.repo.byEmail(normalizeEmail(input.email));
    if (!doc || doc.status !== 'active' || !doc.passwordHash) {
      await verifyPassword(input.password, await dummyHash());
      throw invalid();
    }
    this.assertNotLocked(doc);
    const passwordOk = await verifyPassword(input.password, doc.passwordHash);
    const step = passwordOk ? this.d.totp.verify(input.code, this.d.operators.secretOf(doc)) : null;
    if (step === null) {
      await this.fail(doc);
      throw invalid();
    }
    // Accept the step only if it is newer than the last one used, and record it, in one go.
    const accepted = await this.d.repo.update(doc._id, { status: 'active', $or: [{ lastTotpStep: { $lt: step } }, { lastTotpStep: { $exists: false } }] }, {
      $set: { lastTotpStep: step, failedLogins: 0 },
      $unset: { lockedUntil: '' }
    });
    if (!accepted) {
      await this.fail(doc);
      throw new BerthError('TOTP_REPLAYED', 'that code was already used; wait for the next one from the authenticator app');
    }
    const { session, expiresAt } = await this.d.sessions.create(doc._id);
    return { session, expiresAt, operator: { id: doc._id, email: doc.email, name: doc.name } };
  }

  async signOut(session: string): Promise<void> {
    await this.d.sessions.delete(session);
  }

  private assertNotLocked(doc: OperatorDoc): void {
    const now = this.d.clock();
    if (doc.lockedUntil && doc.lockedUntil > now) throw locked(doc.lockedUntil, now);
  }

  /** Counts a failure; the one that reaches the threshold (and each after it) locks, and is answered as a lock. */
  private async fail(doc: OperatorDoc): Promise<void> {
    const after = await this.d.repo.update(doc._id, {}, { $inc: { failedLogins: 1 } });
    const lockMs = lockDurationMs(after?.failedLogins ?? 0);
    if (lockMs === 0) return;
    const now = this.d.clock();
    const until = new Date(now.getTime() + lockMs);
    await this.d.repo.update(doc._id, {}, { $set: { lockedUntil: until } });
    throw locked(until, now);
  }
}

function locked(until: Date, now: Date): BerthError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new BerthError('ACCOUNT_LOCKED', `too many failed sign-ins: try again in ${seconds} s (after ${until.toISOString()})`, { retryAfterSeconds: seconds });
}
