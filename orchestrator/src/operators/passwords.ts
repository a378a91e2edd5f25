// Operator passwords: scrypt from node:crypto with a per-user random salt. The
// parameters are stored with each hash, so raising them later re-hashes
// nobody and still verifies every old hash.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { BerthError } from '../errors.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './operators.schema.js';

export interface PasswordHash {
  alg: 'scrypt';
  /** CPU/memory cost, block size, parallelism (RFC 7914). */
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

// N=2^15, r=8: 32 MiB and ~50-100 ms per hash, OWASP's scrypt minimum class.
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // maxmem must exceed 128·N·r; node's default (32 MiB) is exactly that for N=2^15, r=8.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)))
  );
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return { alg: 'scrypt', ...PARAMS, salt: salt.toString('base64'), hash: key.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password: verified against when the email is unknown, so timing does not tell. */
let dummy: Promise<PasswordHash> | undefined;
export function dummyHash(): Promise<PasswordHash> {
  dummy ??= hashPassword(randomBytes(18).toString('base64'));
  return dummy;
}

/**
 * Length (the schema checks it too) and the obvious guesses. Messages start
 * with "body.password" like the schema validator's, so the console shows them
 * next to the field.
 */
export function assertStrongPassword(password: string, email: string): void {
  const weak = (why: string): never => {
    throw new BerthError('VALIDATION_FAILED', `body.password ${why}`, { field: 'password' });
  };
  if (password.length < PASSWORD_MIN) weak(`must be at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) weak(`must be at most ${PASSWORD_MAX} characters`);
  if (new Set(password).size < 5) weak('must use at least 5 different characters');
  const lower = password.toLowerCase();
  const local = email.toLowerCase().split('@')[0] ?? '';
  if (lower === email.toLowerCase() || (local.length >= 4 && lower.includes(local))) weak('must not contain your email address');
}
