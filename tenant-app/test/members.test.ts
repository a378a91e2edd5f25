// Members against real FerretDB, MinIO and SMTP: the owner's one-time setup
// link, invitations by mail, sign-in and sign-out, roles, hashed storage,
// CSRF on forms and on the JSON API.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { postForm, seedMember, sessionCookie, sessionFromCookie, signIn } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';
import { startSmtp, welcomeLink, type TestSmtp } from './helpers/smtp.js';

let services: Services;
let smtp: TestSmtp;
let app: RunningApp;
let mongo: MongoClient;
const OWNER = 'Owner@Example.com';
const ownerToken = randomBytes(32).toString('base64url');
const PASSWORD = 'correct horse battery';

t.before(async () => {
  services = await startServices('members');
  smtp = await startSmtp();
  const env = stackEnv(services, 'team');
  app = await startApp({ ...env, OWNER_EMAIL: OWNER, OWNER_SETUP_TOKEN: ownerToken, SMTP_URL: smtp.url, MAIL_FROM: 'Team <team@example.com>', PUBLIC_URL: 'http://127.0.0.1:1', INVITES_PER_HOUR: '3' });
  mongo = new MongoClient(env.MONGO_URL);
});

t.teardown(async () => {
  await app?.stop();
  await mongo?.close();
  await smtp?.stop();
  await services?.stop();
});

t.test('the owner exists at start and sets a password through the one-time link', async (t) => {
  const mail = await smtp.waitFor('owner@example.com');
  const link = welcomeLink(mail);
  t.equal(link, `http://127.0.0.1:1/welcome/${ownerToken}`, 'the mailed link carries the platform-chosen token and PUBLIC_URL');
  const path = `/welcome/${ownerToken}`;
  const page = await fetch(`${app.url}${path}`);
  t.match(await page.text(), 'owner@example.com', 'the link page names the account');

  const short = await postForm(app.url, path, { name: 'Olga', password: 'short', confirm: 'short' });
  t.equal(short.status, 400);
  t.match(await short.text(), 'use 10 to 200 characters', 'a too-short password is explained next to the field');

  const done = await postForm(app.url, path, { name: 'Olga', password: PASSWORD, confirm: PASSWORD });
  t.equal(done.status, 303);
  const cookie = sessionCookie(done);
  t.ok(cookie, 'setting the password signs the owner in');
  const me = await sessionFromCookie(app.url, cookie!);
  const session = (await (await me.fetch('/api/session')).json()) as { member: { role: string; email: string; name: string } };
  t.match(session.member, { role: 'owner', email: 'owner@example.com', name: 'Olga' });

  const again = await fetch(`${app.url}${path}`);
  t.match(await again.text(), 'already used', 'the link works once');
  const reuse = await postForm(app.url, path, { name: 'Mallory', password: 'another password', confirm: 'another password' });
  t.equal(reuse.status, 404, 'and cannot set the password again');
});

t.test('sign-in: wrong password refused, right one gives a session stored only as a hash', async (t) => {
  const wrong = await postForm(app.url, '/signin', { email: 'owner@example.com', password: 'not the password' });
  t.equal(wrong.status, 401);
  t.match(await wrong.text(), 'wrong email or password');
  t.notOk(sessionCookie(wrong));
  const unknown = await postForm(app.url, '/signin', { email: 'nobody@example.com', password: PASSWORD });
  t.equal(unknown.status, 401, 'an unknown address gets the same answer');

  const res = await postForm(app.url, '/signin', { email: 'OWNER@example.com', password: PASSWORD });
  t.equal(res.status, 303, 'email is case-insensitive');
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('berth_session='))!;
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Lax/i);
  const token = sessionCookie(res)!.split('=')[1]!;
  t.ok(Buffer.from(token, 'base64url').length >= 16, 'the token has at least 128 bits');
  const sessions = await mongo.db().collection('sessions').find({}).toArray();
  t.ok(sessions.some((s) => String(s._id) === createHash('sha256').update(token).digest('hex')), 'the database holds the SHA-256 of the token');
  t.notOk(JSON.stringify(sessions).includes(token), 'and never the token itself');
  const owner = await mongo.db().collection('members').findOne({ email: 'owner@example.com' });
  t.match(owner?.passwordHash, /^scrypt\$/, 'the password is stored as an scrypt hash');
});

t.test('forms are CSRF-safe: a post from another origin is refused', async (t) => {
  const res = await postForm(app.url, '/signin', { email: 'owner@example.com', password: PASSWORD }, undefined, 'http://evil.example');
  t.equal(res.status, 403);
  t.notOk(sessionCookie(res));
});

t.test('the JSON API refuses writes without the session CSRF token', async (t) => {
  const owner = await signIn(app.url, 'owner@example.com', PASSWORD);
  const none = await owner.fetch('/api/items', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': '' }, body: '{"title":"x"}' });
  t.equal(none.status, 403);
  t.match(await none.json(), { error: { code: 'CSRF_TOKEN_INVALID' } });
  const wrong = await owner.fetch('/api/items', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'a'.repeat(43) }, body: '{"title":"x"}' });
  t.equal(wrong.status, 403);
  const right = await owner.json('POST', '/api/items', { title: 'with token' });
  t.equal(right.status, 201);
});

t.test('the owner invites a member by email; the member joins and signs in', async (t) => {
  const owner = await signIn(app.url, 'owner@example.com', PASSWORD);
  const bad = await postForm(app.url, '/team?/invite', { email: 'not-an-address' }, owner.cookie);
  t.equal(bad.status, 400);
  t.match(await bad.text(), 'enter an email address', 'a bad address is explained next to the field');

  const res = await postForm(app.url, '/team?/invite', { email: 'Bea@Example.com' }, owner.cookie);
  t.equal(res.status, 200, 'the invitation is sent');
  const mail = await smtp.waitFor('bea@example.com');
  t.match(mail.raw, /From: Team <team@example.com>/);
  const link = new URL(welcomeLink(mail));

  const dup = await postForm(app.url, '/team?/invite', { email: 'bea@example.com' }, owner.cookie);
  t.equal(dup.status, 409, 'inviting the same address twice is refused');

  t.equal((await postForm(app.url, '/signin', { email: 'bea@example.com', password: PASSWORD })).status, 401, 'no sign-in before the invitation is accepted');
  const mismatch = await postForm(app.url, link.pathname, { name: 'Bea', password: 'bea password 1', confirm: 'bea password 2' });
  t.equal(mismatch.status, 400);
  t.match(await mismatch.text(), 'the two passwords differ');
  const joined = await postForm(app.url, link.pathname, { name: 'Bea', password: 'bea password 1', confirm: 'bea password 1' });
  t.equal(joined.status, 303);
  const bea = await signIn(app.url, 'bea@example.com', 'bea password 1');
  const me = (await (await bea.fetch('/api/session')).json()) as { member: { role: string } };
  t.equal(me.member.role, 'member');

  const byMember = await postForm(app.url, '/team?/invite', { email: 'carl@example.com' }, bea.cookie);
  t.equal(byMember.status, 403, 'a member cannot invite');
  t.match(await byMember.text(), 'only the owner invites');
});

t.test('sign-out ends the session in the database', async (t) => {
  const owner = await signIn(app.url, 'owner@example.com', PASSWORD);
  t.equal((await owner.fetch('/api/session')).status, 200);
  const out = await postForm(app.url, '/signout', {}, owner.cookie);
  t.equal(out.status, 303);
  t.equal((await owner.fetch('/api/session')).status, 401, 'the old cookie no longer works');
  const board = await fetch(`${app.url}/board`, { headers: { cookie: owner.cookie }, redirect: 'manual' });
  t.equal(board.status, 303);
  t.equal(board.headers.get('location'), '/signin');
});

t.test('the owner removes a member: their sessions end', async (t) => {
  const owner = await signIn(app.url, 'owner@example.com', PASSWORD);
  const bea = await signIn(app.url, 'bea@example.com', 'bea password 1');
  t.equal((await bea.fetch('/api/items')).status, 200, 'the session is in use (and held in the app\'s session cache)');
  const res = await postForm(app.url, '/team?/remove', { id: bea.memberId }, owner.cookie);
  t.equal(res.status, 200);
  t.equal((await bea.fetch('/api/session')).status, 401, 'refused at once: the app forgets the sessions it ends');
  t.equal((await bea.fetch('/api/items')).status, 401);
  t.equal((await postForm(app.url, '/signin', { email: 'bea@example.com', password: 'bea password 1' })).status, 401);
});

// The session cache's bound (AUTH_CACHE_TTL_MS in sessions.service.ts): what
// another instance does (old and new side by side during an upgrade) reaches
// this one within it. Simulated by changing the database directly.
const AUTH_CACHE_TTL_MS = 5000;

t.test('a member removed through another instance loses access within the cache bound', async (t) => {
  const id = await seedMember(services.mongoUrl('team'), 'dan@example.com', 'dan password 1');
  const dan = await signIn(app.url, 'dan@example.com', 'dan password 1');
  t.equal((await dan.fetch('/api/items')).status, 200);
  const removedAt = Date.now();
  await mongo.db().collection<{ _id: string }>('members').deleteOne({ _id: id });
  await mongo.db().collection('sessions').deleteMany({ memberId: id });
  let status = 200;
  while (status === 200 && Date.now() - removedAt < AUTH_CACHE_TTL_MS + 2000) {
    status = (await dan.fetch('/api/items')).status;
    if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const after = Date.now() - removedAt;
  t.equal(status, 401, `refused after ${after} ms`);
  t.ok(after <= AUTH_CACHE_TTL_MS + 500, `within the ${AUTH_CACHE_TTL_MS} ms bound`);
});

t.test('a cached session still expires on time', async (t) => {
  await seedMember(services.mongoUrl('team'), 'eve@example.com', 'eve password 1');
  const eve = await signIn(app.url, 'eve@example.com', 'eve password 1');
  const hash = createHash('sha256').update(eve.cookie.split('=')[1]!).digest('hex');
  // Expires 1.5 s after the next lookup; the cache keeps the entry longer than that.
  await new Promise((resolve) => setTimeout(resolve, AUTH_CACHE_TTL_MS + 100));
  await mongo.db().collection<{ _id: string }>('sessions').updateOne({ _id: hash }, { $set: { expiresAt: new Date(Date.now() + 1500) } });
  t.equal((await eve.fetch('/api/items')).status, 200, 'looked up again, now with the near expiry');
  await new Promise((resolve) => setTimeout(resolve, 1700));
  t.equal((await eve.fetch('/api/items')).status, 401, 'refused once expired, though the cached entry is younger than the cache bound');
});

t.test('invitations are limited per team per hour: 429 with Retry-After, nothing mailed or stored', async (t) => {
  const owner = await signIn(app.url, 'owner@example.com', PASSWORD);
  // Bea's invitation above was the first of the hour's three.
  for (const email of ['gil@example.com', 'hal@example.com']) {
    t.equal((await postForm(app.url, '/team?/invite', { email }, owner.cookie)).status, 200, `${email} invited`);
  }
  const gil = await mongo.db().collection('members').findOne({ email: 'gil@example.com' });
  const removed = await postForm(app.url, '/team?/remove', { id: String(gil?._id) }, owner.cookie);
  t.equal(removed.status, 200, 'gil is removed again, which gives no invitation back');

  const over = await postForm(app.url, '/team?/invite', { email: 'ivy@example.com' }, owner.cookie);
  t.equal(over.status, 429);
  const retryAfter = Number(over.headers.get('retry-after'));
  t.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After is ${over.headers.get('retry-after')} s, within the hour`);
  t.match(await over.text(), 'your team has sent its 3 invitations this hour');
  t.equal(await mongo.db().collection('members').countDocuments({ email: 'ivy@example.com' }), 0, 'no member is stored');
  t.notOk(smtp.mails.some((m) => m.to.includes('ivy@example.com')), 'and nothing is mailed');
});
