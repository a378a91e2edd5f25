// A member's HTTP session against the app, the way a browser would do it:
// form posts with an Origin header, the session cookie, and the CSRF token
// for /api calls.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { hashPassword } from '../../src/lib/server/members/passwords.js';

export async function postForm(base: string, path: string, fields: Record<string, string>, cookie?: string, origin = base): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin, ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString()
  });
}

/** The berth_session=... pair from a response, or undefined. */
export function sessionCookie(res: Response): string | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('berth_session='));
  const pair = header?.split(';')[0];
  return pair && pair !== 'berth_session=' ? pair : undefined;
}

export class MemberSession {
  constructor(readonly base: string, readonly cookie: string, readonly csrf: string, readonly memberId: string) {}

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', this.cookie);
    if (!headers.has('x-csrf-token')) headers.set('x-csrf-token', this.csrf);
    return fetch(`${this.base}${path}`, { redirect: 'manual', ...init, headers });
  }

  json(method: string, path: string, body?: unknown): Promise<Response> {
    return this.fetch(path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  }
}

export async function sessionFromCookie(base: string, cookie: string): Promise<MemberSession> {
  const res = await fetch(`${base}/api/session`, { headers: { cookie } });
  if (!res.ok) throw new Error(`session not valid: ${res.status}`);
  const body = (await res.json()) as { csrf: string; member: { id: string } };
  return new MemberSession(base, cookie, body.csrf, body.member.id);
}

export async function signIn(base: string, email: string, password: string): Promise<MemberSession> {
  const res = await postForm(base, '/signin', { email, password });
  const cookie = sessionCookie(res);
  if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return sessionFromCookie(base, cookie);
}

/** Writes an active member straight into the database (what an accepted invitation leaves). */
export async function seedMember(mongoUrl: string, email: string, password: string, role: 'owner' | 'member' = 'member'): Promise<string> {
  const client = new MongoClient(mongoUrl);
  try {
    const id = randomBytes(16).toString('hex');
    await client.db().collection<{ _id: string; [key: string]: unknown }>('members').insertOne({
      _id: id, email, name: email.split('@')[0], role, status: 'active', passwordHash: await hashPassword(password),
      tokenHash: null, tokenExpiresAt: null, invitedBy: null, createdAt: new Date()
    });
    return id;
  } finally {
    await client.close();
  }
}
