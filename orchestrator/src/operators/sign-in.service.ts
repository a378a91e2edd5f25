// Sign-in: email + password + TOTP code → a new session. Every failure looks
// the same (INVALID_CREDENTIALS), whether the email exists or not, and every
// attempt costs the same scrypt work first, whoever it names. Failures count
// per email address, known or not (sign-in-failures.repository.ts): five in a
// row lock the address, 30 s the first time and doubling with each further
// failure up to an hour, and a locked address answers ACCOUNT_LOCKED alike
// whether an operator has it or nobody does. A good sign-in clears the count.
// A code is good once: its time step must be newer than the last one used,
// and that is checked and recorded in one conditional update, so two sign-ins
// racing with one code cannot both win.
import { BerthError } from '../errors.js';
import type { OperatorDoc } from './operator.types.js';
import type { OperatorsRepository } from './operators.repository.js';
import { normalizeEmail, type OperatorsService } from './operators.service.js';
import { dummyHash, verifyPassword } from './passwords.js';
import type { SessionsService } from './sessions.service.js';
import type { SignInFailuresRepository } from './sign-in-failures.repository.js';
import type { Totp } from './totp.js';

export const FAILURES_BEFORE_LOCK = 5;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 60 * 60 * 1000;

/** How long the n-th consecutive failure locks the address for (0 below the threshold). */
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
  failures: SignInFailuresRepository;
  operators: OperatorsService;
  sessions: SessionsService;
  totp: Totp;
  clock: () => Date;
}

const invalid = () => new BerthError('INVALID_CREDENTIALS', 'wrong email, password or code');

export class SignInService {
  constructor(private readonly d: SignInDeps) {}

  async signIn(input: { email: string; password: string; code: string }): Promise<SignInResult> {
    const email = normalizeEmail(input.email);
    const found = await this.d.repo.byEmail(email);
    const doc = found && found.status === 'active' && found.passwordHash ? found : null;
    // The hash work before anything can answer, so neither a lock nor an
    // unknown address answers sooner than a wrong password does.
    const passwordOk = await verifyPassword(input.password, doc?.passwordHash ?? (await dummyHash()));
    const now = this.d.clock();
    const lockedUntil = await this.d.failures.lockedUntil(email, now);
    if (lockedUntil) throw locked(lockedUntil, now);
    const step = doc && passwordOk ? this.d.totp.verify(input.code, this.d.operators.secretOf(doc)) : null;
    if (!doc || step === null) {
      await this.fail(email, doc);
      throw invalid();
    }
    // Accept the step only if it is newer than the last one used, and record it, in one go.
    const accepted = await this.d.repo.update(doc._id, { status: 'active', $or: [{ lastTotpStep: { $lt: step } }, { lastTotpStep: { $exists: false } }] }, {
      $set: { lastTotpStep: step },
      $unset: { lockedUntil: '' }
    });
    if (!accepted) {
      await this.fail(email, doc);
      throw new BerthError('TOTP_REPLAYED', 'that code was already used; wait for the next one from the authenticator app');
    }
    await this.d.failures.clear(email);
    const { session, expiresAt } = await this.d.sessions.create(doc._id);
    return { session, expiresAt, operator: { id: doc._id, email: doc.email, name: doc.name } };
  }

  async signOut(session: string): Promise<void> {
    await this.d.sessions.delete(session);
  }

  /**
   * Counts a failure for the address; the one that reaches the threshold (and
   * each after it) locks, and is answered as a lock. A real operator's record
   * shows the lock too, for the operators list.
   */
  private async fail(email: string, doc: OperatorDoc | null): Promise<void> {
    const now = this.d.clock();
    const lockMs = lockDurationMs(await this.d.failures.count(email, now));
    if (lockMs === 0) return;
    const until = new Date(now.getTime() + lockMs);
    await this.d.failures.lock(email, until);
    if (doc) await this.d.repo.update(doc._id, {}, { $set: { lockedUntil: until } });
    throw locked(until, now);
  }
}

function locked(until: Date, now: Date): BerthError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new BerthError('ACCOUNT_LOCKED', `too many failed sign-ins: try again in ${seconds} s (after ${until.toISOString()})`, { retryAfterSeconds: seconds });
}
