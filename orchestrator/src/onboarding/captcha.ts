// Self-hosted proof of work (ALTCHA v2, altcha-lib): the server hands out a
// signed, expiring challenge; the browser's widget finds the counter that
// derives the key prefix (PBKDF2/SHA-256, `cost` iterations per try) and sends
// back base64 JSON {challenge, solution}. A solution is accepted once: its
// nonce is remembered until the challenge would have expired anyway.
import { createHash } from 'node:crypto';
import { createChallenge, randomInt, verifySolution, type Challenge, type Solution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from '../db/mongo.js';
import { BerthError } from '../errors.js';

export const CAPTCHA_ALGORITHM = 'PBKDF2/SHA-256';

interface UsedDoc {
  _id: string;
  expiresAt: Date;
}

export interface CaptchaOptions {
  /** HMAC key that signs challenges (derived from the platform key). */
  key: string;
  cost: number;
  maxCounter: number;
  ttlMs: number;
  clock: () => Date;
}

export class Captcha {
  private readonly used: Collection<UsedDoc>;

  constructor(db: Db, private readonly o: CaptchaOptions) {
    this.used = db.collection<UsedDoc>('onboarding_captcha_used');
  }

  async init(): Promise<void> {
    await this.used.createIndex({ expiresAt: 1 });
  }

  /** Always signed (the key is set), so the answer carries a signature: the contract requires one. */
  async challenge(): Promise<Challenge & { signature: string }> {
    const challenge = await createChallenge({
      algorithm: CAPTCHA_ALGORITHM,
      cost: this.o.cost,
      counter: randomInt(Math.ceil(this.o.maxCounter / 2), this.o.maxCounter),
      deriveKey,
      hmacSignatureSecret: this.o.key,
      expiresAt: new Date(this.o.clock().getTime() + this.o.ttlMs)
    });
    if (!challenge.signature) throw new BerthError('INTERNAL', 'altcha-lib made a challenge without a signature');
    return { ...challenge, signature: challenge.signature };
  }

  /** Throws CAPTCHA_INVALID unless `payload` solves a challenge of ours that is unexpired and unused; then uses it up. */
  async consume(payload: string | undefined): Promise<void> {
    const parsed = parsePayload(payload);
    if (!parsed) throw invalid('the captcha was not solved: tick "I\'m not a robot" and wait for it to finish');
    const { challenge, solution } = parsed;
    const expiresAt = challenge.parameters.expiresAt;
    if (challenge.parameters.algorithm !== CAPTCHA_ALGORITHM || typeof expiresAt !== 'number') throw invalid('the captcha is not one this platform issued; reload the page');
    if (expiresAt * 1000 <= this.o.clock().getTime()) throw invalid('the captcha expired; solve it again');
    const result = await verifySolution({ challenge, solution, deriveKey, hmacSignatureSecret: this.o.key }).catch(() => null);
    if (!result?.verified) {
      throw invalid(result?.expired ? 'the captcha expired; solve it again' : 'the captcha solution is wrong or was not issued here; solve it again');
    }
    const now = this.o.clock();
    await this.used.deleteMany({ expiresAt: { $lte: now } });
    const id = createHash('sha256').update(`${challenge.parameters.nonce}:${challenge.parameters.salt}`).digest('hex');
    try {
      await this.used.insertOne({ _id: id, expiresAt: new Date(expiresAt * 1000) });
    } catch (err) {
      if (isDuplicateKey(err)) throw invalid('this captcha solution was already used; solve a new one');
      throw err;
    }
  }
}

function invalid(message: string): BerthError {
  return new BerthError('CAPTCHA_INVALID', message, { field: 'captcha' });
}

function parsePayload(payload: string | undefined): { challenge: Challenge; solution: Solution } | undefined {
  if (!payload || payload.length > 8192) return undefined;
  try {
    const value = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { challenge?: Challenge; solution?: Solution };
    const p = value.challenge?.parameters;
    const s = value.solution;
    if (!p || typeof p.nonce !== 'string' || typeof p.salt !== 'string' || typeof value.challenge?.signature !== 'string') return undefined;
    if (!s || typeof s.counter !== 'number' || typeof s.derivedKey !== 'string') return undefined;
    return { challenge: value.challenge!, solution: s };
  } catch {
    return undefined;
  }
}
