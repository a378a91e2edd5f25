// The onboarding's small secrets. A sign-up is held by the browser as a random
// token (256 bits) of which only the SHA-256 is stored: a fast hash is right
// for a high-entropy secret, as for API tokens. Email codes have only 20 bits,
// so they are stored as an HMAC under a key derived from the platform key and
// bound to their sign-up: a copy of the database cannot test guesses offline,
// nor move a code to another sign-up. Codes are never logged.
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export const SIGNUP_PREFIX = 'bsig_';
const SIGNUP_FORMAT = /^bsig_[A-Za-z0-9_-]{43}$/;

export function newSignupToken(): string {
  return `${SIGNUP_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The stored id of a sign-up token, or undefined when it is not one. */
export function signupId(token: string | undefined): string | undefined {
  return token !== undefined && SIGNUP_FORMAT.test(token) ? createHash('sha256').update(token).digest('hex') : undefined;
}

/** Six digits, uniformly drawn. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export class CodeHasher {
  constructor(private readonly key: string) {}

  hash(signup: string, code: string): string {
    return createHmac('sha256', this.key).update(`berth-onboarding-code:${signup}:${code}`).digest('hex');
  }

  matches(signup: string, code: string, stored: string): boolean {
    const a = Buffer.from(this.hash(signup, code), 'hex');
    const b = Buffer.from(stored, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Client addresses are kept only as keyed hashes: enough to count, not to read back. */
  address(ip: string): string {
    return createHmac('sha256', this.key).update(`berth-onboarding-ip:${ip}`).digest('hex').slice(0, 32);
  }
}
