import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL-safe: session tokens, invite and setup links. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** 128 random bits as hex: ids that must not be guessable (object keys). */
export function randomId(): string {
  return randomBytes(16).toString('hex');
}

/** Only this digest of a token is stored, so a database leak is no key. */
export function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
