// The sign-up steps through the real API on a real platform database: codes
// mailed by nodemailer to a real SMTP server (smtp-server, with AUTH) and read
// back from the mail; the real ALTCHA challenge solved with altcha-lib; a
// clock the test moves for expiry; every log line captured. No tenant is made
// here (see provisioning.test.ts).
import t from 'tap';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { call, captureLog, codeIn, onboardingApp, solvedCaptcha, startSignup, startSmtp, testOnboardingConfig, type OnboardingApp, type TestSmtp } from './fixtures/onboarding.js';

const log = captureLog();
let tp: TestPlatform;
let smtp: TestSmtp;
let o: OnboardingApp;
/** Every code any mail carried: none may ever reach the log. */
const codes: string[] = [];

t.before(async () => {
  smtp = await startSmtp();
  tp = await startTestPlatform('onbsign');
  o = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, {
    rate: { windowMs: 60_000, mailPerIp: 5, mailPerEmail: 3, requestsPerIp: 10_000 }
  }), log.logger);
});

t.teardown(async () => {
  await o?.close();
  await tp?.close();
  await smtp?.close();
});

const signup = async (email: string, ip: string) => {
  const s = await startSignup(o, smtp, email, ip);
  codes.push(s.code);
  return s;
};

t.test('a code by real mail through the configured SMTP server (auth, from), then the code verifies the sign-up once', async (t) => {
  const { token, code } = await signup('ada@example.com', '198.51.100.1');
  const mail = smtp.mails.at(-1)!;
  t.equal(mail.user, 'berth-test', 'nodemailer authenticated with the URL\'s credentials');
  t.match(mail.from, 'signup@berth.test', 'from BERTH_ONBOARDING_MAIL_FROM');
  t.same(mail.to, ['ada@example.com']);
  t.match(mail.text, /valid for 10 minutes and works once/);
  t.notMatch(mail.subject, /\d{6}/, 'the code is not in the subject line');
  t.match(code, /^\d{6}$/);

  const before = await call(o.app, 'GET', '/signup', { token });
  t.match(before.json(), { step: 'code', email: 'ada@example.com', code: { attemptsLeft: 5, sendsLeft: 3 } });
  const ok = await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
  t.equal(ok.statusCode, 200, ok.body);
  t.match(ok.json(), { step: 'team', plans: [{ name: 'starter', default: true }, { name: 'team', default: false }] });
  const again = await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
  t.equal(again.statusCode, 409, 'a used code does not work twice');
  t.equal(again.json().error.code, 'SIGNUP_STEP');

  const stored = await tp.platform.db.db.collection('onboarding_signups').find({}).toArray();
  const text = JSON.stringify(stored);
  t.notOk(text.includes(token), 'the sign-up token is stored only as a hash');
  t.notOk(text.includes('198.51.100.1'), 'the client address only as a keyed hash');
});

t.test('five wrong codes lock the sign-up: then even the right code is refused', async (t) => {
  const { token, code } = await signup('bob@example.com', '198.51.100.2');
  const wrong = code === '000000' ? '111111' : '000000';
  for (const left of [4, 3, 2, 1]) {
    const res = await call(o.app, 'POST', '/signup/verify', { token, body: { code: wrong } });
    t.equal(res.statusCode, 400);
    t.match(res.json().error, { code: 'CODE_INVALID', message: new RegExp(`${left} tr(y|ies) left`) });
  }
  const fifth = await call(o.app, 'POST', '/signup/verify', { token, body: { code: wrong } });
  t.equal(fifth.statusCode, 423, 'the fifth wrong code locks it');
  t.match(fifth.json().error, { code: 'SIGNUP_LOCKED', message: /locked.*Start again/ });
  const right = await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
  t.equal(right.statusCode, 423, 'the right code no longer helps');
  t.equal((await call(o.app, 'GET', '/signup', { token })).json().step, 'locked');
  t.equal((await call(o.app, 'POST', '/signup/resend', { token })).statusCode, 423, 'and no new code is sent');
});

t.test('an expired code is refused (clock moved past 10 minutes); resends are throttled; a fresh code works', async (t) => {
  const { token, code } = await signup('cy@example.com', '198.51.100.3');
  const soon = await call(o.app, 'POST', '/signup/resend', { token });
  t.equal(soon.statusCode, 429, 'no resend within the interval');
  t.equal(soon.json().error.code, 'RESEND_TOO_SOON');
  t.ok(Number(soon.headers['retry-after']) > 0, 'Retry-After says when');

  o.clock.advance(10 * 60_000 + 1000);
  const late = await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
  t.equal(late.statusCode, 400);
  t.match(late.json().error, { code: 'CODE_EXPIRED', message: /expired/ });

  const before = smtp.count('cy@example.com');
  const resent = await call(o.app, 'POST', '/signup/resend', { token });
  t.equal(resent.statusCode, 200, resent.body);
  const fresh = codeIn(await smtp.next('cy@example.com', before));
  codes.push(fresh);
  if (fresh !== code) {
    t.equal((await call(o.app, 'POST', '/signup/verify', { token, body: { code } })).json().error.code, 'CODE_INVALID', 'the old code died with the new one');
  }
  const ok = await call(o.app, 'POST', '/signup/verify', { token, body: { code: fresh } });
  t.equal(ok.statusCode, 200, ok.body);
});

t.test('the captcha: required, verified on the server, a solution accepted once', async (t) => {
  const start = (body: object, ip = '198.51.100.4') => call(o.app, 'POST', '/signups', { ip, body });
  t.equal((await start({ email: 'dee@example.com' })).statusCode, 400, 'no captcha: 400');
  const bogus = await start({ email: 'dee@example.com', captcha: Buffer.from('{"challenge":{},"solution":{}}').toString('base64') });
  t.match(bogus.json().error, { code: 'CAPTCHA_INVALID' });
  const payload = await solvedCaptcha(o.app);
  const decoded = JSON.parse(Buffer.from(payload, 'base64').toString()) as { solution: { counter: number } };
  const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64').toString()), solution: { ...decoded.solution, counter: decoded.solution.counter + 1 } })).toString('base64');
  t.match((await start({ email: 'dee@example.com', captcha: tampered })).json().error, { code: 'CAPTCHA_INVALID', message: /wrong/ }, 'a wrong counter fails');
  t.equal((await start({ email: 'dee@example.com', captcha: payload })).statusCode, 201, 'the real solution passes');
  const replay = await start({ email: 'eve@example.com', captcha: payload }, '198.51.100.5');
  t.equal(replay.statusCode, 400, 'the same solution twice: refused');
  t.match(replay.json().error, { code: 'CAPTCHA_INVALID', message: /already used/ });

  const stale = await solvedCaptcha(o.app);
  o.clock.advance(11 * 60_000);
  t.match((await start({ email: 'dee2@example.com', captcha: stale })).json().error, { code: 'CAPTCHA_INVALID', message: /expired/ }, 'an expired challenge fails');
  codes.push(codeIn(smtp.mails.filter((m) => m.to.includes('dee@example.com')).at(-1)!));
});

t.test('the same answer whether or not the address is known', async (t) => {
  await signup('known@example.com', '198.51.100.6'); // now known: it has a sign-up
  const answer = async (email: string) => {
    const res = await call(o.app, 'POST', '/signups', { ip: '198.51.100.7', body: { email, captcha: await solvedCaptcha(o.app) } });
    const body = res.json() as { signup: string; status: Record<string, unknown> };
    codes.push(codeIn(await smtp.next(email, smtp.count(email) - 1)));
    const { email: _e, expiresAt: _x, code: c, ...rest } = body.status as { email: string; expiresAt: string; code: Record<string, unknown> };
    return { status: res.statusCode, headers: Object.keys(res.headers).filter((h) => !/^(date|content-length|x-ratelimit)/.test(h)).sort(), keys: Object.keys(body).sort(), rest, code: Object.keys(c).sort(), attempts: c.attemptsLeft };
  };
  const known = await answer('known@example.com');
  const unknown = await answer(`nobody-${Date.now()}@example.com`);
  t.same(known, unknown, 'status, headers and body shape are identical');
  t.equal(known.status, 201);
});

t.test('naming: a slug suggested from the name; reserved words and bad characters explained in words', async (t) => {
  const { token, code } = await signup('fay@example.com', '198.51.100.8');
  t.equal((await call(o.app, 'GET', '/signup/slug?name=x', { token })).statusCode, 409, 'only a verified sign-up may check names');
  await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
  const check = async (query: string) => (await call(o.app, 'GET', `/signup/slug?${query}`, { token })).json();
  t.match(await check(`name=${encodeURIComponent('Café Zürich GmbH')}`), { slug: 'cafe-zurich-gmbh', available: true });
  t.match(await check(`slug=${encodeURIComponent('Acme Co!')}`), { available: false, reason: 'invalid', message: /lowercase.*capital "A".*spaces.*"!"/, suggestion: 'acme-co-2' });
  t.match(await check('slug=admin'), { available: false, reason: 'reserved', message: /reserved for the platform/, suggestion: 'admin-team' });
  t.match(await check('slug=berth-ops'), { available: false, reason: 'reserved', message: /"berth-"/ });
  t.match(await check('slug=ab'), { available: false, message: /at least 3/ });
  t.match(await check('slug=9lives'), { available: false, message: /Start with a letter/ });
  t.match(await check('slug=two--dashes'), { available: false, message: /two hyphens/ });
  const bad = await call(o.app, 'POST', '/signup/team', { token, body: { displayName: 'Admins', slug: 'admin', plan: 'starter' } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().error, { code: 'SLUG_RESERVED', message: /"admin-team" is free/ });
  const plan = await call(o.app, 'POST', '/signup/team', { token, body: { displayName: 'Fay Co', slug: 'fay-co-x', plan: 'platinum' } });
  t.match(plan.json().error, { code: 'PLAN_UNKNOWN', message: /starter, team/ });
});

t.test('a burst of sign-ups from one address is rate-limited: 429 with Retry-After', async (t) => {
  const statuses: number[] = [];
  let limited: { headers: Record<string, unknown>; body: { error: { code: string; message: string } } } | undefined;
  for (let i = 0; i < 8; i++) {
    const res = await call(o.app, 'POST', '/signups', { ip: '203.0.113.9', body: { email: `burst${i}@example.com`, captcha: await solvedCaptcha(o.app) } });
    statuses.push(res.statusCode);
    if (res.statusCode === 429) limited ??= { headers: res.headers, body: res.json() };
  }
  t.same(statuses, [201, 201, 201, 201, 201, 429, 429, 429], 'five per minute from one address, then 429');
  t.match(limited?.body.error, { code: 'RATE_LIMITED', message: /from your address/ });
  t.ok(Number(limited?.headers['retry-after']) > 0 && Number(limited?.headers['retry-after']) <= 60, 'with Retry-After in seconds');
  for (let i = 0; i < 5; i++) codes.push(codeIn(await smtp.next(`burst${i}@example.com`)));
  const other = await call(o.app, 'POST', '/signups', { ip: '203.0.113.10', body: { email: 'calm@example.com', captcha: await solvedCaptcha(o.app) } });
  t.equal(other.statusCode, 201, 'another address is not affected');
  codes.push(codeIn(await smtp.next('calm@example.com')));

  // Per email: even failed attempts count, from any address.
  const perEmail: number[] = [];
  for (let i = 0; i < 4; i++) perEmail.push((await call(o.app, 'POST', '/signups', { ip: `203.0.113.${20 + i}`, body: { email: 'target@example.com', captcha: 'nope' } })).statusCode);
  t.same(perEmail, [400, 400, 400, 429], 'three per minute for one email address');
});

t.test('daily limits per address and per email, from the database', async (t) => {
  const strict = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, { perDay: { ip: 2, email: 2, teams: 1000 } }), log.logger);
  t.teardown(() => strict.close());
  const start = async (email: string, ip: string) => {
    const res = await call(strict.app, 'POST', '/signups', { ip, body: { email, captcha: await solvedCaptcha(strict.app) } });
    if (res.statusCode === 201) codes.push(codeIn(await smtp.next(email, smtp.count(email) - 1)));
    return res;
  };
  t.equal((await start('day1@example.com', '192.0.2.50')).statusCode, 201);
  t.equal((await start('day2@example.com', '192.0.2.50')).statusCode, 201);
  const third = await start('day3@example.com', '192.0.2.50');
  t.equal(third.statusCode, 429);
  t.match(third.json().error, { code: 'SIGNUP_LIMIT', message: /this network started 2 sign-ups/ });
  t.equal((await start('day1@example.com', '192.0.2.51')).statusCode, 201, 'the same email from elsewhere: second of the day');
  const email = await start('day1@example.com', '192.0.2.52');
  t.match(email.json().error, { code: 'SIGNUP_LIMIT', message: /this email address was used for 2 sign-ups/ });
  strict.clock.advance(24 * 60 * 60_000 + 1000);
  t.equal((await start('day1@example.com', '192.0.2.52')).statusCode, 201, 'a day later it works again');
});

t.test('without SMTP configured the platform runs a sink; operators (admin) read the captured mail', async (t) => {
  const app = tp.platform.app; // default configuration: no BERTH_ONBOARDING_SMTP_URL
  t.ok(tp.platform.onboarding.sink, 'the sink is running');
  const res = await call(app, 'POST', '/signups', { ip: '192.0.2.80', body: { email: 'sink@example.com', captcha: await solvedCaptcha(app) } });
  t.equal(res.statusCode, 201, res.body);
  const token = (res.json() as { signup: string }).signup;
  const mails = await app.inject({ method: 'GET', url: '/api/v1/onboarding/mails', headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(mails.statusCode, 200);
  const body = mails.json() as { sink: { enabled: boolean; port: number }; mails: { to: string; subject: string; text: string; envelope: { to: string[] } }[] };
  t.match(body.sink, { enabled: true, port: tp.platform.onboarding.sink!.port });
  const mail = body.mails.find((m) => m.envelope.to.includes('sink@example.com'));
  t.match(mail, { subject: 'Your Berth sign-up code', to: 'sink@example.com' });
  const code = /^\s+(\d{6})\s*$/m.exec(mail!.text)![1]!;
  codes.push(code);
  t.equal((await call(app, 'POST', '/signup/verify', { token, body: { code } })).statusCode, 200, 'the captured code works');

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/onboarding/mails' })).statusCode, 401, 'no token: 401');
  const { token: reader } = await tp.platform.tokens.create({ name: 'reader', scope: 'read' });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/onboarding/mails', headers: { authorization: `Bearer ${reader}` } })).statusCode, 403, 'codes are for admins only');
});

t.test('every onboarding route is in the OpenAPI document, public ones without a token', async (t) => {
  const doc = (await o.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
  for (const path of ['/api/v1/onboarding/captcha', '/api/v1/onboarding/signups', '/api/v1/onboarding/signup', '/api/v1/onboarding/signup/verify', '/api/v1/onboarding/signup/resend', '/api/v1/onboarding/signup/slug', '/api/v1/onboarding/signup/team', '/api/v1/onboarding/signup/retry', '/api/v1/onboarding/mails']) {
    t.ok(doc.paths[path], path);
  }
});

t.test('sign-ups can be turned off', async (t) => {
  const off = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, { enabled: false }), log.logger);
  t.teardown(() => off.close());
  const res = await call(off.app, 'GET', '/captcha');
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'ONBOARDING_DISABLED');
});

t.test('codes never reach the log, at the most verbose level', async (t) => {
  t.ok(codes.length >= 12, `${codes.length} codes were mailed`);
  t.ok(log.lines.some((l) => l.includes('onboarding mail sent')), 'the log has the mail lines');
  t.ok(log.lines.some((l) => l.includes('/api/v1/onboarding/signup/verify')), 'and the request lines');
  const leaks = log.lines.filter((line) => codes.some((code) => new RegExp(`(^|[^0-9])${code}([^0-9]|$)`).test(line)));
  t.same(leaks, [], 'no line carries a code');
});
