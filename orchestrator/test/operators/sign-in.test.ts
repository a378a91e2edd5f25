// Operators through the API on a real FerretDB, with a test clock: enrolment
// by setup link with a real TOTP code, sign-in, replayed codes, lockout with
// backoff, and what the database holds (never a token, secret or password).
import t, { type Test } from 'tap';
import { startTestPlatform } from '../helpers/platform.js';
import { clockedApp, tokenOf } from './fixtures/clocked.js';

const tp = await startTestPlatform('opsign');
const { app, clock, code } = await clockedApp(tp);
t.teardown(async () => {
  await app.close();
  await tp.close();
});
const admin = { authorization: `Bearer ${tp.token}` };
const as = (session: string) => ({ authorization: `Bearer ${session}` });
type Json = Record<string, any>;
const post = async (url: string, payload?: object, headers: Record<string, string> = {}) => {
  const res = await app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });
  return { status: res.statusCode, body: (res.body ? res.json() : {}) as Json, headers: res.headers };
};
const get = async (url: string, headers: Record<string, string>) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1${url}`, headers });
  return { status: res.statusCode, body: res.json() as Json };
};
const PASSWORD = 'correct horse battery staple';
const seen = { tokens: [] as string[], secrets: [] as string[] };

/** Makes an operator through the API and enrols them; the secret, the id and the step used. */
async function enrol(email: string, name = 'Test Operator') {
  const made = await post('/operators', { email, name }, admin);
  if (made.status !== 201) throw new Error(JSON.stringify(made.body));
  const token = tokenOf(made.body.setupUrl);
  seen.tokens.push(token);
  const started = await post('/auth/setup/start', { token });
  seen.secrets.push(started.body.totpSecret);
  const finished = await post('/auth/setup/finish', { token, password: PASSWORD, code: code(started.body.totpSecret) });
  if (finished.status !== 200) throw new Error(JSON.stringify(finished.body));
  return { id: made.body.operator.id as string, secret: started.body.totpSecret as string };
}

/** Signs in at the next TOTP step (so the code is always fresh). */
async function signIn(email: string, secret: string) {
  clock.advance(30_000);
  const res = await post('/auth/login', { email, password: PASSWORD, code: code(secret) });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  seen.tokens.push(res.body.session);
  return res.body.session as string;
}

t.test('enrolment: setup link → secret and QR (same on a second call) → password + real code → active; the link works once', async (t) => {
  const made = await post('/operators', { email: 'Ada@Example.org', name: 'Ada' }, admin);
  t.equal(made.status, 201);
  t.equal(made.body.operator.email, 'ada@example.org', 'email lower-cased');
  t.equal(made.body.operator.status, 'pending');
  t.match(made.body.setupUrl, new RegExp(`^${tp.config.consoleUrl}/setup/[A-Za-z0-9_-]{43}$`));
  const token = tokenOf(made.body.setupUrl);
  seen.tokens.push(token);
  t.equal((await post('/operators', { email: 'ada@example.org', name: 'Again' }, admin)).body.error.code, 'OPERATOR_EXISTS');

  const first = await post('/auth/setup/start', { token });
  t.equal(first.status, 200);
  t.match(first.body, { email: 'ada@example.org', name: 'Ada', totpSecret: /^[A-Z2-7]{32}$/, otpauthUrl: /^otpauth:\/\/totp\/Berth:ada%40example\.org\?secret=/ });
  t.match(first.body.qrSvg, /^<svg[\s\S]*<\/svg>\s*$/, 'an SVG QR code');
  seen.secrets.push(first.body.totpSecret);
  const again = await post('/auth/setup/start', { token });
  t.equal(again.body.totpSecret, first.body.totpSecret, 'the same secret on a second call');

  const weak = await post('/auth/setup/finish', { token, password: 'short', code: code(first.body.totpSecret) });
  t.equal(weak.status, 400);
  t.equal(weak.body.error.code, 'VALIDATION_FAILED');
  t.match(weak.body.error.message, /^body\.password /, 'names the field');
  const guessable = await post('/auth/setup/finish', { token, password: 'aaaaaaaaaaaaaaaa', code: code(first.body.totpSecret) });
  t.match(guessable.body.error, { code: 'VALIDATION_FAILED', message: /^body\.password / });
  const wrong = await post('/auth/setup/finish', { token, password: PASSWORD, code: code(first.body.totpSecret, 5) });
  t.equal(wrong.status, 400);
  t.equal(wrong.body.error.code, 'TOTP_INVALID');

  const done = await post('/auth/setup/finish', { token, password: PASSWORD, code: code(first.body.totpSecret) });
  t.equal(done.status, 200);
  t.match(done.body.operator, { email: 'ada@example.org', status: 'active' });
  t.equal((await post('/auth/setup/start', { token })).body.error.code, 'SETUP_TOKEN_INVALID', 'the link is burnt');
  t.equal((await post('/auth/setup/finish', { token, password: PASSWORD, code: code(first.body.totpSecret) })).status, 400);
  t.equal((await post('/auth/setup/start', { token: 'A'.repeat(43) })).body.error.code, 'SETUP_TOKEN_INVALID', 'an unknown link');

  // The code used to enrol counts as used: signing in with it (same step) is a replay.
  const replay = await post('/auth/login', { email: 'ada@example.org', password: PASSWORD, code: code(first.body.totpSecret) });
  t.equal(replay.status, 401);
  t.equal(replay.body.error.code, 'TOTP_REPLAYED');
});

t.test('a setup link expires after 24 h', async (t) => {
  const made = await post('/operators', { email: 'late@example.org', name: 'Late' }, admin);
  seen.tokens.push(tokenOf(made.body.setupUrl));
  clock.advance(24 * 3600_000 + 1000);
  const res = await post('/auth/setup/start', { token: tokenOf(made.body.setupUrl) });
  t.equal(res.status, 400);
  t.equal(res.body.error.code, 'SETUP_TOKEN_INVALID');
});

t.test('sign-in: a session that works as a Bearer for the API; a code is good once', async (t) => {
  const { secret } = await enrol('bea@example.org', 'Bea');
  clock.advance(30_000);
  const c = code(secret);
  const res = await post('/auth/login', { email: 'BEA@example.org', password: PASSWORD, code: c });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.match(res.body.session, /^bsess_[A-Za-z0-9_-]{43}$/);
  t.equal(Date.parse(res.body.expiresAt) - clock.now().getTime(), 12 * 3600_000, 'expires in 12 h');
  t.match(res.body.operator, { email: 'bea@example.org', name: 'Bea' });
  seen.tokens.push(res.body.session);

  const tenants = await get('/tenants', as(res.body.session));
  t.equal(tenants.status, 200, 'the session reads tenants');
  const me = await get('/auth/me', as(res.body.session));
  t.same(me.body, { kind: 'operator', operator: res.body.operator, scope: 'admin' });
  t.match((await get('/auth/me', admin)).body, { kind: 'token', scope: 'admin' });

  const replay = await post('/auth/login', { email: 'bea@example.org', password: PASSWORD, code: c });
  t.equal(replay.status, 401);
  t.equal(replay.body.error.code, 'TOTP_REPLAYED', 'the same code again');
  const older = await post('/auth/login', { email: 'bea@example.org', password: PASSWORD, code: code(secret, -1) });
  t.equal(older.body.error.code, 'TOTP_REPLAYED', 'an older step, still inside the window');

  const second = await signIn('bea@example.org', secret);
  t.not(second, res.body.session, 'every sign-in makes a new session');
  t.equal((await get('/tenants', as(second))).status, 200);
  t.equal((await get('/tenants', as(res.body.session))).status, 200, 'the older one still works until signed out');

  clock.advance(12 * 3600_000 + 1);
  const expired = await get('/tenants', as(second));
  t.equal(expired.status, 401, 'a session ends after 12 h');
  t.match(expired.body.error.message, /sign in again/);
});

t.test('wrong password, wrong code and unknown email get the same answer', async (t) => {
  const { secret } = await enrol('cy@example.org', 'Cy');
  clock.advance(30_000);
  const answers = [
    await post('/auth/login', { email: 'cy@example.org', password: 'not the password!', code: code(secret) }),
    await post('/auth/login', { email: 'cy@example.org', password: PASSWORD, code: code(secret, 5) }),
    await post('/auth/login', { email: 'nobody@example.org', password: PASSWORD, code: code(secret) })
  ];
  for (const a of answers) {
    t.equal(a.status, 401);
    t.same(a.body, answers[2]!.body);
  }
  t.equal(answers[2]!.body.error.code, 'INVALID_CREDENTIALS');
  await signIn('cy@example.org', secret); // clears the two failures
});

t.test('five failures lock with backoff (30 s, 60 s, 120 s), answered 423 with Retry-After; the lock expires', async (t) => {
  const { secret } = await enrol('dee@example.org', 'Dee');
  const wrong = () => post('/auth/login', { email: 'dee@example.org', password: PASSWORD, code: code(secret, 7) });
  const right = () => post('/auth/login', { email: 'dee@example.org', password: PASSWORD, code: code(secret) });
  for (let i = 1; i <= 4; i++) t.equal((await wrong()).status, 401, `failure ${i}`);
  const fifth = await wrong();
  t.equal(fifth.status, 423);
  t.equal(fifth.body.error.code, 'ACCOUNT_LOCKED');
  t.equal(fifth.headers['retry-after'], '30');
  t.match(fifth.body.error.message, /try again in 30 s/);
  clock.advance(29_000);
  t.equal((await right()).status, 423, 'even the right code is refused while locked');
  const listed = (await get('/operators', admin)).body.operators.find((o: Json) => o.email === 'dee@example.org');
  t.ok(listed.lockedUntil, 'the list shows the lock');

  clock.advance(2_000);
  const sixth = await wrong();
  t.equal(sixth.status, 423, 'the next failure locks again, for longer');
  t.equal(sixth.headers['retry-after'], '60');
  clock.advance(61_000);
  t.equal((await wrong()).headers['retry-after'], '120');
  clock.advance(121_000);
  const ok = await right();
  t.equal(ok.status, 200, 'the lock expires and a good sign-in works');
  seen.tokens.push(ok.body.session);
  clock.advance(30_000);
  t.equal((await wrong()).status, 401, 'and the count starts over');
});

t.test('an unknown email locks exactly like an operator\'s: the same status, code, body and Retry-After, and about the same time', async (t) => {
  const { secret } = await enrol('gus@example.org', 'Gus');
  const known = () => post('/auth/login', { email: 'gus@example.org', password: PASSWORD, code: code(secret, 7) });
  const unknown = () => post('/auth/login', { email: 'nobody-at-all@example.org', password: PASSWORD, code: code(secret, 7) });
  const timed = async (attempt: () => ReturnType<typeof post>) => {
    const started = performance.now();
    const answer = await attempt();
    return { ...answer, ms: performance.now() - started };
  };
  const same = (t: Test, a: Awaited<ReturnType<typeof post>>, b: Awaited<ReturnType<typeof post>>, what: string) => {
    t.equal(a.status, b.status, `${what}: status`);
    t.same(a.body, b.body, `${what}: body`);
    t.equal(a.headers['retry-after'], b.headers['retry-after'], `${what}: Retry-After`);
  };
  for (let i = 1; i <= 4; i++) same(t, await known(), await unknown(), `failure ${i}`);
  const [k5, u5] = [await timed(known), await timed(unknown)];
  t.equal(k5.status, 423);
  t.equal(u5.body.error.code, 'ACCOUNT_LOCKED', 'an address nobody has locks too');
  same(t, k5, u5, 'the failure that locks');
  // While locked: even the right password and code for the real operator gets the unknown address's answer.
  clock.advance(10_000);
  const [k6, u6] = [await timed(() => post('/auth/login', { email: 'gus@example.org', password: PASSWORD, code: code(secret) })), await timed(unknown)];
  same(t, k6, u6, 'locked');
  t.equal(k6.headers['retry-after'], '20');
  const wrongPassword = await timed(() => post('/auth/login', { email: 'cy@example.org', password: 'not the password!', code: code(secret) }));
  t.comment(`ms: wrong password ${Math.round(wrongPassword.ms)}, locked operator ${Math.round(k6.ms)}, locked unknown ${Math.round(u6.ms)}, locking operator ${Math.round(k5.ms)}, locking unknown ${Math.round(u5.ms)} (each does the password hash work)`);
  const listed = (await get('/operators', admin)).body.operators.find((o: Json) => o.email === 'gus@example.org');
  t.ok(listed.lockedUntil, 'operators still see the lock on a real operator');
  const stored = JSON.stringify(await tp.platform.db.db.collection('operator_signin_failures').find({}).toArray());
  t.notMatch(stored, /nobody-at-all|gus@/, 'tried addresses are kept only as hashes');
  clock.advance(21_000);
  const ok = await post('/auth/login', { email: 'gus@example.org', password: PASSWORD, code: code(secret) });
  t.equal(ok.status, 200, 'the lock ends');
  seen.tokens.push(ok.body.session);
});

t.test('sign-in attempts per client address: 429 with Retry-After; an IPv6 /64 counts as one address', async (t) => {
  const narrow = await clockedApp(tp, Date.parse('2031-03-04T05:06:00Z'), 3);
  t.teardown(() => narrow.app.close());
  // A new address each time, so no email lock answers before the address limit.
  let n = 0;
  const login = (ip: string) => narrow.app.inject({
    method: 'POST', url: '/api/v1/auth/login', headers: { 'x-forwarded-for': ip },
    payload: { email: `guess-${++n}@example.org`, password: PASSWORD, code: '123456' }
  });
  for (let i = 1; i <= 3; i++) t.equal((await login('203.0.113.7')).statusCode, 401, `attempt ${i}`);
  const fourth = await login('203.0.113.7');
  t.equal(fourth.statusCode, 429);
  t.match(fourth.json().error, { code: 'RATE_LIMITED', message: /too many sign-in attempts from your address: at most 3 per 60 s; try again in \d+ s/ });
  t.match(fourth.headers['retry-after'], /^\d+$/);
  t.equal((await login('203.0.113.8')).statusCode, 401, 'another address is not affected');
  for (let i = 1; i <= 3; i++) await login(`2001:db8:7:7::${i}`);
  t.equal((await login('2001:db8:7:7:ffff::9')).statusCode, 429, 'another address in the same /64 shares the count');
  t.equal((await login('2001:db8:7:8::1')).statusCode, 401, 'the next /64 does not');
});

t.test('sign-out, disable and reset end sessions; nobody disables themselves', async (t) => {
  const eve = await enrol('eve@example.org', 'Eve');
  const fay = await enrol('fay@example.org', 'Fay');
  const eveSession = await signIn('eve@example.org', eve.secret);
  const faySession = await signIn('fay@example.org', fay.secret);

  t.equal((await post('/auth/logout', undefined, as(eveSession))).status, 204);
  t.equal((await get('/tenants', as(eveSession))).status, 401, 'signed out');
  t.equal((await post('/auth/logout', undefined, admin)).status, 403, 'an API token has no session to end');

  const eveAgain = await signIn('eve@example.org', eve.secret);
  const self = await post(`/operators/${eve.id}/disable`, undefined, as(eveAgain));
  t.equal(self.status, 409);
  t.equal(self.body.error.code, 'OPERATOR_CONFLICT');
  const disabled = await post(`/operators/${eve.id}/disable`, undefined, as(faySession));
  t.equal(disabled.status, 200);
  t.equal(disabled.body.operator.status, 'disabled');
  t.equal((await get('/tenants', as(eveAgain))).status, 401, 'disable ends the sessions');
  clock.advance(30_000);
  const refused = await post('/auth/login', { email: 'eve@example.org', password: PASSWORD, code: code(eve.secret) });
  t.equal(refused.body.error.code, 'INVALID_CREDENTIALS', 'a disabled operator cannot sign in');

  const reset = await post(`/operators/${fay.id}/reset`, undefined, admin);
  t.equal(reset.status, 200);
  t.match(reset.body.setupUrl, /\/setup\/[A-Za-z0-9_-]{43}$/);
  t.equal(reset.body.operator.status, 'pending');
  t.equal((await get('/tenants', as(faySession))).status, 401, 'reset ends the sessions');
  clock.advance(30_000);
  t.equal((await post('/auth/login', { email: 'fay@example.org', password: PASSWORD, code: code(fay.secret) })).status, 401, 'the old password and secret are gone');
  const token = tokenOf(reset.body.setupUrl);
  seen.tokens.push(token);
  const restart = await post('/auth/setup/start', { token });
  t.not(restart.body.totpSecret, fay.secret, 'a new TOTP secret');
  seen.secrets.push(restart.body.totpSecret);
  t.equal((await post('/auth/setup/finish', { token, password: PASSWORD, code: code(restart.body.totpSecret) })).status, 200, 'the new link enrols again');
  t.equal((await post('/operators/0000000000000000/disable', undefined, admin)).body.error.code, 'OPERATOR_NOT_FOUND');
});

t.test('operators list: no hashes or secrets; refused without admin', async (t) => {
  const list = await get('/operators', admin);
  t.equal(list.status, 200);
  t.ok(list.body.operators.length >= 6);
  t.notMatch(JSON.stringify(list.body), /password|totp|setup|salt|hash/i);
  const reader = await tp.platform.tokens.create({ name: 'reader', scope: 'read' });
  t.equal((await get('/operators', { authorization: `Bearer ${reader.token}` })).status, 403);
  t.equal((await post('/operators', { email: 'x@example.org', name: 'X' })).status, 401);
});

t.test('the database never holds a session token, setup token, TOTP secret or password in clear', async (t) => {
  const db = tp.platform.db.db;
  const operators = await db.collection('operators').find({}).toArray();
  const sessions = await db.collection('operator_sessions').find({}).toArray();
  t.ok(sessions.length > 0, 'there are sessions to look at');
  const stored = JSON.stringify([operators, sessions]);
  t.ok(seen.tokens.length > 10 && seen.secrets.length > 5);
  for (const token of seen.tokens) t.notOk(stored.includes(token) || stored.includes(token.replace(/^bsess_/, '')), 'no token in clear');
  for (const secret of seen.secrets) t.notOk(stored.includes(secret), 'no TOTP secret in clear');
  t.notOk(stored.includes(PASSWORD), 'no password in clear');
  const active = operators.find((o) => o.email === 'bea@example.org')!;
  t.match(active.totpSecret, { v: 1, iv: String, tag: String, data: String }, 'the TOTP secret is sealed');
  t.match(active.passwordHash, { alg: 'scrypt', N: Number, r: Number, p: Number, salt: String, hash: String });
  for (const s of sessions) t.match(s._id, /^[0-9a-f]{64}$/, 'sessions are stored by hash');
});

// WebSocket routes (the terminal, like /events and /logs/ws before it) do not appear in the generated document.
t.test('the new HTTP routes are in the OpenAPI document', async (t) => {
  const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
  for (const path of ['/api/v1/auth/setup/start', '/api/v1/auth/setup/finish', '/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/me', '/api/v1/operators', '/api/v1/operators/{id}/disable', '/api/v1/operators/{id}/reset', '/api/v1/tenants/{slug}/stats', '/api/v1/templates']) {
    t.ok(doc.paths[path], path);
  }
});
