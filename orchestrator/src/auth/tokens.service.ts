// API tokens for CI and scripts: `berth_<id>_<secret>`. The id (12 hex chars)
// is the lookup key and is safe to show; the secret (32 random bytes,
// base64url) is returned once by create() and never stored — only its SHA-256.
//
// Why SHA-256 and not bcrypt/scrypt/argon2: slow hashes exist to protect
// low-entropy secrets (passwords) from offline guessing. A 256-bit random
// secret cannot be guessed whatever the hash speed, so a fast hash is as safe
// and keeps every authenticated request cheap. (Same reasoning as GitHub's
// and Immich's API keys.)
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from '../db/mongo.js';
import { BerthError } from '../errors.js';
import { SCOPES, type Principal, type Scope } from './auth.types.js';
import { TOKEN_NAME_PATTERN, type CreateTokenBody, type TokenInfo } from './tokens.schema.js';

export type { TokenInfo };

interface TokenDoc {
  _id: string;
  name: string;
  scope: Scope;
  /** SHA-256 of the secret part, hex. Never the token itself. */
  secretHash: string;
  createdAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

const TOKEN_FORMAT = /^berth_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is a hint for operators, not a log: write it at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function toInfo(doc: TokenDoc): TokenInfo {
  const info: TokenInfo = { id: doc._id, name: doc.name, scope: doc.scope, createdAt: doc.createdAt };
  if (doc.lastUsedAt) info.lastUsedAt = doc.lastUsedAt;
  if (doc.revokedAt) info.revokedAt = doc.revokedAt;
  return info;
}

export class TokensService {
  private readonly tokens: Collection<TokenDoc>;

  constructor(db: Db, private readonly clock: () => Date = () => new Date()) {
    this.tokens = db.collection<TokenDoc>('api_tokens');
  }

  async init(): Promise<void> {
    // _id is the token id, so lookups need no index of their own.
    await this.tokens.createIndex({ createdAt: 1 });
  }

  async create({ name, scope }: CreateTokenBody): Promise<{ token: string; info: TokenInfo }> {
    if (typeof name !== 'string' || !new RegExp(TOKEN_NAME_PATTERN).test(name)) {
      throw new BerthError('VALIDATION_FAILED', 'token name must be 1-64 characters of letters, digits, space, ".", "_" or "-"');
    }
    if (!SCOPES.includes(scope)) {
      throw new BerthError('VALIDATION_FAILED', `token scope must be one of ${SCOPES.join(', ')}`);
    }
    // 48 bits of id: a collision is unlikely but not impossible; the _id index refuses it and we draw again.
    for (let attempt = 1; ; attempt++) {
      const id = randomBytes(6).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const doc: TokenDoc = { _id: id, name, scope, secretHash: sha256(secret).toString('hex'), createdAt: this.clock() };
      try {
        await this.tokens.insertOne(doc);
      } catch (err) {
        if (isDuplicateKey(err) && attempt < 3) continue;
        throw err;
      }
      return { token: `berth_${id}_${secret}`, info: toInfo(doc) };
    }
  }

  /** Every token, revoked ones included, oldest first; never a hash. */
  async list(): Promise<TokenInfo[]> {
    const docs = await this.tokens.find({}, { projection: { secretHash: 0 } }).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(toInfo);
  }

  /** Revoking is idempotent: a second revoke keeps the first revokedAt. */
  async revoke(id: string): Promise<void> {
    const found = await this.tokens.findOne({ _id: id }, { projection: { revokedAt: 1 } });
    if (!found) throw new BerthError('TOKEN_NOT_FOUND', `no API token with id ${JSON.stringify(id)}`);
    if (!found.revokedAt) await this.tokens.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: this.clock() } });
  }

  /** How many tokens were ever made, revoked ones included (the bootstrap prints a first token only once). */
  async count(): Promise<number> {
    return this.tokens.countDocuments({});
  }

  /** The principal a bearer token stands for, or null if it is malformed, unknown or revoked. */
  async authenticate(bearerToken: string): Promise<Principal | null> {
    const match = TOKEN_FORMAT.exec(bearerToken);
    if (!match) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const doc = await this.tokens.findOne({ _id: id });
    if (!doc || doc.revokedAt) return null;
    const stored = Buffer.from(doc.secretHash, 'hex');
    const given = sha256(secret);
    // Constant-time, so response timing tells nothing about how much of the hash matched.
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null;

    const now = this.clock();
    if (!doc.lastUsedAt || now.getTime() - doc.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.tokens.updateOne({ _id: id }, { $set: { lastUsedAt: now } });
    }
    return { tokenId: id, name: doc.name, scope: doc.scope };
  }
}
