// Sessions live in MongoDB. The cookie holds 256 random bits; the database
// holds only their SHA-256, so reading the sessions collection signs no one in.
import { collections } from '../db';
import { config } from '../config';
import { randomToken, sha256 } from '../tokens';
import type { SessionDoc } from './sessions.types';

export const SESSION_COOKIE = 'berth_session';

export const sessionsService = {
  async create(memberId: string): Promise<{ token: string; session: SessionDoc }> {
    const token = randomToken();
    const now = new Date();
    const session: SessionDoc = { _id: sha256(token), memberId, csrf: randomToken(), createdAt: now, expiresAt: new Date(now.getTime() + config().sessionTtlMs) };
    await collections.sessions().insertOne(session);
    return { token, session };
  },

  /** The live session for a cookie value, or null. */
  async resolve(token: string | undefined): Promise<SessionDoc | null> {
    if (!token || token.length > 100) return null;
    const session = await collections.sessions().findOne({ _id: sha256(token) });
    if (!session || session.expiresAt.getTime() <= Date.now()) return null;
    return session;
  },

  async end(token: string): Promise<void> {
    await collections.sessions().deleteOne({ _id: sha256(token) });
  },

  async endAllFor(memberId: string): Promise<void> {
    await collections.sessions().deleteMany({ memberId });
  },

  /** Run at start; expiry is also checked on every use, so this is housekeeping only. */
  async purgeExpired(): Promise<number> {
    return (await collections.sessions().deleteMany({ expiresAt: { $lte: new Date() } })).deletedCount;
  }
};

/** HttpOnly, SameSite=Lax, Secure when the app is served over https. */
export function sessionCookieOptions(url: URL) {
  const publicUrl = config().publicUrl;
  const secure = (publicUrl ? new URL(publicUrl).protocol : url.protocol) === 'https:';
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure, maxAge: Math.floor(config().sessionTtlMs / 1000) };
}
