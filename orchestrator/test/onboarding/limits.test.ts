// The onboarding's limits through the real API on a real platform database:
// per-email limits count one mailbox however it is spelt (case, +tag, Gmail
// dots); per-address limits count an IPv6 /64 as one address; the
// platform-wide daily cap on self-service teams pauses sign-ups with a clear
// answer and tells operators (event, quota endpoint), and starts over the next
// UTC day. Teams here fail fast (their app image is missing), so no stack runs.
import t from 'tap';
import { addressKey } from '../../src/api/client-address.js';
import type { BerthEvent } from '../../src/events/event-bus.js';
import { emailLimitKey } from '../../src/onboarding/email-key.js';
import { config as base, testSlug } from '../helpers/docker.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';
import { call, captureLog, onboardingApp, solvedCaptcha, startSignup, startSmtp, testOnboardingConfig, type TestSmtp } from './fixtures/onboarding.js';

const log = captureLog();
let tp: TestPlatform;
let smtp: TestSmtp;

t.before(async () => {
  smtp = await startSmtp();
  tp = await startTestPlatform('onblim', { images: { ...base.images, appRepo: `berth-test/missing-${testSlug('lim')}` } });
});
t.teardown(async () => {
  await tp?.close();
  await smtp?.close();
});

t.test('limit keys: one mailbox is one key; IPv6 by its /64, IPv4-mapped as IPv4', async (t) => {
  t.equal(emailLimitKey(' Ann+promo@Example.COM '), 'ann@example.com');
  t.equal(emailLimitKey('a.n.n+x@googlemail.com'), 'ann@gmail.com', 'Gmail ignores dots: folded there only');
  t.equal(emailLimitKey('a.n.n@example.com'), 'a.n.n@example.com', 'elsewhere dots are kept');
  t.equal(emailLimitKey('+tag@example.com'), '+tag@example.com', 'a local part that is only a tag stays');
  t.equal(addressKey('2001:DB8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
  t.equal(addressKey('::ffff:198.51.100.7'), '198.51.100.7');
  t.equal(addressKey('198.51.100.7'), '198.51.100.7');
  t.equal(addressKey('not an address'), 'not an address');
});

t.test('per-email and per-address rates count a mailbox and an IPv6 /64 once', async (t) => {
  const o = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, {
    rate: { windowMs: 60_000, mailPerIp: 2, mailPerEmail: 2, requestsPerIp: 10_000 }
  }), log.logger);
  t.teardown(() => o.close());
  // A wrong captcha still counts (the limits run before the handler): 400 while allowed, 429 after.
  const start = (email: string, ip: string) => call(o.app, 'POST', '/signups', { ip, body: { email, captcha: 'nope' } }).then((r) => r.statusCode);
  t.same([await start('Bo+1@example.com', '192.0.2.1'), await start('bo+2@EXAMPLE.com', '192.0.2.2'), await start('BO@example.com', '192.0.2.3')], [400, 400, 429], 'two per minute for one mailbox, however spelt');
  t.same([await start('c1@example.com', '2001:db8:5:5::1'), await start('c2@example.com', '2001:db8:5:5::2'), await start('c3@example.com', '2001:db8:5:5:a:b:c:d')], [400, 400, 429], 'two per minute for one /64');
  t.equal(await start('c4@example.com', '2001:db8:5:6::1'), 400, 'the next /64 is another address');
});

t.test('the daily per-email limit counts one mailbox once', async (t) => {
  const o = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, { perDay: { ip: 1000, email: 1, teams: 1000 } }), log.logger);
  t.teardown(() => o.close());
  const start = async (email: string) => call(o.app, 'POST', '/signups', { ip: '192.0.2.40', body: { email, captcha: await solvedCaptcha(o.app) } });
  t.equal((await start('Dee+first@example.com')).statusCode, 201);
  const second = await start('dee+second@example.com');
  t.equal(second.statusCode, 429);
  t.match(second.json().error, { code: 'SIGNUP_LIMIT', message: /this email address was used for 1 sign-ups/ });
  t.equal(smtp.mails.filter((m) => m.to.includes('dee+first@example.com')).length, 1, 'the code went to the address as typed');
});

t.test('the daily cap on self-service teams: a clear 503, operators told, nothing half made; the next day it starts over', async (t) => {
  const o = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url, { perDay: { ip: 1000, email: 1000, teams: 1 } }), log.logger);
  t.teardown(() => o.close());
  const events: BerthEvent[] = [];
  t.teardown(o.platform.events.subscribe((e) => void (e.type === 'onboarding.paused' && events.push(e))));
  const verified = async (email: string) => {
    const { token, code } = await startSignup(o, smtp, email, '192.0.2.60');
    const res = await call(o.app, 'POST', '/signup/verify', { token, body: { code } });
    if (res.statusCode !== 200) throw new Error(res.body);
    return token;
  };
  const first = await verified('first-team@example.com');
  const second = await verified('second-team@example.com');
  const quota = async () => (await o.app.inject({ method: 'GET', url: '/api/v1/onboarding/quota', headers: { authorization: `Bearer ${tp.token}` } })).json();
  t.match(await quota(), { teamsToday: 0, teamsPerDay: 1, paused: false });

  const slug = testSlug('cap');
  const made = await call(o.app, 'POST', '/signup/team', { token: first, body: { displayName: 'Cap One', slug, plan: 'starter' } });
  t.equal(made.statusCode, 202, made.body);
  await until(() => events.length === 1, 10_000, 'the onboarding.paused event');
  t.match(events[0]!.data, { teamsToday: 1, teamsPerDay: 1, resumesAt: /T00:00:00\.000Z$/ });
  t.match(await quota(), { teamsToday: 1, paused: true });

  const refused = await call(o.app, 'POST', '/signup/team', { token: second, body: { displayName: 'Cap Two', slug: testSlug('cap'), plan: 'starter' } });
  t.equal(refused.statusCode, 503);
  t.same(refused.json().error, { code: 'SIGNUPS_PAUSED', message: 'Sign-ups are paused for today; please try again later.' });
  const retryAfter = Number(refused.headers['retry-after']);
  t.ok(retryAfter > 0 && retryAfter <= 86_400, `Retry-After ${retryAfter} s: until the next UTC day`);
  t.equal((await call(o.app, 'GET', '/signup', { token: second })).json().step, 'team', 'the refused sign-up stays at its team step: nothing half made');
  const fresh = await call(o.app, 'POST', '/signups', { ip: '192.0.2.61', body: { email: 'third@example.com', captcha: await solvedCaptcha(o.app) } });
  t.equal(fresh.statusCode, 503, 'a new sign-up is told before any code is mailed');
  t.equal(fresh.json().error.code, 'SIGNUPS_PAUSED');
  t.equal(smtp.count('third@example.com'), 0);
  t.equal(events.length, 1, 'operators are told once');

  o.clock.advance(retryAfter * 1000 + 1000);
  t.match(await quota(), { teamsToday: 0, paused: false }, 'the next UTC day');
  const later = await call(o.app, 'POST', '/signup/team', { token: second, body: { displayName: 'Cap Two', slug: testSlug('cap'), plan: 'starter' } });
  t.equal(later.statusCode, 202, 'the same sign-up goes on the next day');
  await o.platform.tenants.settled();
});
