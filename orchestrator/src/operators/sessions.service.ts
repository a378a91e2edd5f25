// Console sessions: `bsess_` + 32 random bytes (base64url). Only the SHA-256
// of a session token is stored (it is the document id), so a copy of the
// database signs nobody in. Fixed 12 h lifetime; every sign-in makes a new
// one; sign-out deletes one; disabling or resetting an operator deletes all of
// theirs. As with API tokens, a fast hash is right for a 256-bit random secret.
import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Principal } from '../auth/auth.types.js';
import type { SessionDoc } from './operator.types.js';
import type { OperatorsRepository } from './operators.repository.js';

export const SESSION_PREFIX = 'bsess_';
const SESSION_FORMAT = /^bsess_[A-Za-z0-9_-]{43}$/;
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const sha256hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function isSessionToken(token: string): boolean {
  return token.startsWith(SESSION_PREFIX);
}

export class SessionsService {
  private readonly sessions: Collection<SessionDoc>;

  constructor(
    db: Db,
    private readonly operators: OperatorsRepository,
    private readonly clock: () => Date = () => new Date(),
    private readonly ttlMs = SESSION_TTL_MS
  ) {
    this.sessions = db.collection<SessionDoc>('operator_sessions');
  }

  async init(): Promise<void> {
    await this.sessions.createIndex({ operatorId: 1 });
    await this.sessions.createIndex({ expiresAt: 1 });
  }

  async create(operatorId: string): Promise<{ session: string; expiresAt: Date }> {
    const now = this.clock();
    const session = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    // Expired sessions are swept here, at sign-in, rather than by a timer of their own.
    await this.sessions.deleteMany({ expiresAt: { $lte: now } });
    await this.sessions.insertOne({ _id: sha256hex(session), operatorId, createdAt: now, expiresAt });
    return { session, expiresAt };
  }

  /** The principal of a live session of an active operator, or null. */
  async authenticate(token: string): Promise<Principal | null> {
    if (!SESSION_FORMAT.test(token)) return null;
    const id = sha256hex(token);
    // Looked up by its hash: nothing secret-dependent is compared, so no timing to protect.
    const doc = await this.sessions.findOne({ _id: id });
    if (!doc || doc.expiresAt <= this.clock()) return null;
    // Disabling deletes sessions; checking the status as well closes the race with a sign-in under way.
    const operator = await this.operators.get(doc.operatorId);
    if (!operator || operator.status !== 'active') return null;
    return { kind: 'operator', operatorId: operator._id, name: operator.email, scope: 'admin', tokenId: `session:${id.slice(0, 8)}` };
  }

  async delete(token: string): Promise<void> {
    await this.sessions.deleteOne({ _id: sha256hex(token) });
  }

  async deleteAll(operatorId: string): Promise<number> {
    return (await this.sessions.deleteMany({ operatorId })).deletedCount;
  }
}
