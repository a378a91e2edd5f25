// Sessions live in MongoDB. The cookie holds 256 random bits; the database
// holds only their SHA-256, so reading the sessions collection signs no one in.
//
// Every request resolves its cookie to a session and its member. That was two
// queries per request, on a database with half a CPU; now the pair is kept in
// memory for AUTH_CACHE_TTL_MS, keyed by the token's SHA-256. This process
// drops the entries itself the moment it ends a session (sign-out) or a
// member's sessions (removal), so on one instance, the normal case, nothing is
// ever served stale. Staleness bound: while two instances serve the same team
// (old and new side by side during an upgrade), a session ended or a member
// removed through the other instance still works here for at most
// AUTH_CACHE_TTL_MS. Expiry is checked on every use, cached or not.
import { collections } from '../db';
import { config } from '../config';
import { membersRepository } from '../members/members.repository';
import { toMember, type Member } from '../members/members.types';
import { randomToken, sha256 } from '../tokens';
import type { SessionDoc } from './sessions.types';

export const SESSION_COOKIE = 'berth_session';

/** How long a resolved session and member are trusted without asking the database again. */
export const AUTH_CACHE_TTL_MS = 5000;
/** Entries kept at most; the oldest go first (a Map iterates in insertion order). */
const AUTH_CACHE_MAX = 1000;

export interface Authenticated {
  session: SessionDoc;
  member: Member;
}

interface CacheEntry extends Authenticated {
  /** When the lookup that produced it started: the entry is no newer than that. */
  fetchedAt: number;
}

const authCache = new Map<string, CacheEntry>();
/**
 * Bumped by every invalidation. A lookup that was in flight across one may
 * hold what was just ended, so it answers its own request but is not cached.
 */
let authGeneration = 0;

function forgetWhere(match: (entry: CacheEntry, hash: string) => boolean): void {
  authGeneration++;
  for (const [hash, entry] of authCache) if (match(entry, hash)) authCache.delete(hash);
}

/** After a change to a member (removal, role): their cached sessions are looked up again. */
export function forgetMember(memberId: string): void {
  forgetWhere((entry) => entry.member.id === memberId);
}

/** The database, uncached: the live session and its active member, or null. */
async function lookup(hash: string): Promise<Authenticated | null> {
  const session = await collections.sessions().findOne({ _id: hash });
  if (!session) return null;
  const doc = await membersRepository.byId(session.memberId);
  if (!doc || doc.status !== 'active') return null;
  return { session, member: toMember(doc) };
}

export const sessionsService = {
  async create(memberId: string): Promise<{ token: string; session: SessionDoc }> {
    const token = randomToken();
    const now = new Date();
    const session: SessionDoc = { _id: sha256(token), memberId, csrf: randomToken(), createdAt: now, expiresAt: new Date(now.getTime() + config().sessionTtlMs) };
    await collections.sessions().insertOne(session);
    return { token, session };
  },

  /**
   * The live session for a cookie value and its (active) member, or null.
   * Cached for AUTH_CACHE_TTL_MS (see the top of this file); misses are not
   * cached, so made-up tokens cannot fill the cache.
   */
  async authenticate(token: string | undefined): Promise<Authenticated | null> {
    if (!token || token.length > 100) return null;
    const hash = sha256(token);
    const now = Date.now();
    const hit = authCache.get(hash);
    if (hit && now - hit.fetchedAt < AUTH_CACHE_TTL_MS) {
      if (hit.session.expiresAt.getTime() <= now) {
        authCache.delete(hash);
        return null;
      }
      return hit;
    }
    const generation = authGeneration;
    const found = await lookup(hash);
    if (!found || found.session.expiresAt.getTime() <= Date.now()) {
      authCache.delete(hash);
      return null;
    }
    if (generation === authGeneration) {
      authCache.delete(hash); // re-inserted at the end: the newest entry
      authCache.set(hash, { ...found, fetchedAt: now });
      if (authCache.size > AUTH_CACHE_MAX) authCache.delete(authCache.keys().next().value!);
    }
    return found;
  },

  async end(token: string): Promise<void> {
    const hash = sha256(token);
    try {
      await collections.sessions().deleteOne({ _id: hash });
    } finally {
      forgetWhere((_entry, key) => key === hash);
    }
  },

  async endAllFor(memberId: string): Promise<void> {
    try {
      await collections.sessions().deleteMany({ memberId });
    } finally {
      forgetMember(memberId);
    }
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
