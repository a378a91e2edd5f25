// From a verified sign-up to a running team through the real engine: the
// first create fails (the app image is not on the host: a real failure the
// engine rolls back), leaving nothing of the team behind; the retry makes it,
// with every step on the sign-up's own WebSocket, which never carries another
// tenant's events; the owner's one-time link answers through nginx; a second
// sign-up asking for the same name is refused with a suggestion.
import t from 'tap';
import type { WebSocket } from 'ws';
import { httpGet } from '../../src/runtime/http-get.js';
import { config as base, docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';
import { call, captureLog, onboardingApp, solvedCaptcha, startSignup, startSmtp, testOnboardingConfig, type OnboardingApp, type TestSmtp } from './fixtures/onboarding.js';
import { assertStartSteps } from '../helpers/start-steps.js';

interface Message {
  type: 'snapshot' | 'event';
  signup?: { step: string; team?: { url?: string; setupUrl?: string; error?: { code: string; message: string }; events: unknown[] } };
  event?: { type: string; operation?: string; data: Record<string, unknown> };
}

const log = captureLog();
const slug = testSlug('onb');
// The app image under a name of this test's own, so the first create fails for want of it.
const appRepo = `berth-test/onb-app-${slug}`;
let tp: TestPlatform;
let smtp: TestSmtp;
let o: OnboardingApp;
let token = '';

t.before(async () => {
  smtp = await startSmtp();
  tp = await startTestPlatform('onbprov', { images: { ...base.images, appRepo } });
  o = await onboardingApp(tp, testOnboardingConfig(tp.config.onboarding, smtp.url), log.logger);
});

t.teardown(async () => {
  await o?.close();
  await tp?.close();
  await smtp?.close();
  await docker('image', 'rm', `${appRepo}:${tp.config.defaultAppVersion}`).catch(() => '');
});

/** The sign-up's socket, collecting every message. */
async function socket(signup: string): Promise<{ ws: WebSocket; messages: Message[] }> {
  const messages: Message[] = [];
  const ws = await o.app.injectWS('/api/v1/onboarding/signup/events', { headers: { 'x-berth-signup': signup } }, {
    onInit: (w) => w.on('message', (data: Buffer) => messages.push(JSON.parse(String(data)) as Message))
  });
  return { ws, messages };
}

const lastSnapshot = (messages: Message[]) => messages.filter((m) => m.type === 'snapshot').at(-1)?.signup;

t.test('a verified sign-up creates its team; a failure is rolled back and said plainly; the retry succeeds, live', async (t) => {
  const started = await startSignup(o, smtp, 'owner@example.com', '198.51.100.20');
  token = started.token;
  t.equal((await call(o.app, 'POST', '/signup/verify', { token, body: { code: started.code } })).statusCode, 200);
  await t.rejects(o.app.injectWS('/api/v1/onboarding/signup/events', { headers: { 'x-berth-signup': token } }), /409/, 'no socket before there is a team');

  const created = await call(o.app, 'POST', '/signup/team', { token, body: { displayName: 'Onboard Test', slug, plan: 'starter' } });
  t.equal(created.statusCode, 202, created.body);
  t.match(created.json(), { step: 'provisioning', team: { slug, displayName: 'Onboard Test', plan: 'starter' } });
  const first = await socket(token);
  await until(() => lastSnapshot(first.messages)?.step === 'failed', 60_000, 'the first create to fail');
  const failed = lastSnapshot(first.messages)!;
  t.match(failed.team?.error, { code: 'IMAGE_MISSING', message: /Setting up your team failed: .*image.*Nothing was left half made\. Try again/ });
  t.notMatch(failed.team?.error?.message ?? '', /berth-test|scripts\/build-images/, 'no operator detail in the message');
  const left = await Promise.all([
    runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug }),
    runtime.listNetworks({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug }),
    runtime.listVolumes({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug })
  ]);
  t.same(left.map((l) => l.length), [0, 0, 0], 'no container, network or volume of the failed team is left');
  t.equal((await call(o.app, 'GET', '/signup', { token })).json().step, 'failed', 'a return visit shows the failure too');
  first.ws.terminate();

  await docker('tag', `${base.images.appRepo}:${tp.config.defaultAppVersion}`, `${appRepo}:${tp.config.defaultAppVersion}`);
  const live = await socket(token);
  const retried = await call(o.app, 'POST', '/signup/retry', { token });
  t.equal(retried.statusCode, 202, retried.body);
  t.equal(retried.json().step, 'provisioning');
  const operation = retried.json().team.operationId as string;
  await until(() => lastSnapshot(live.messages)?.step === 'ready', 90_000, 'the retried create to finish', 100);
  const steps = live.messages.filter((m) => m.event?.operation === operation && m.event.type === 'operation.step').map((m) => String(m.event!.data.step));
  assertStartSteps(t, steps, { after: ['storage-limit', 'route'] });
  t.ok(live.messages.some((m) => m.event?.type === 'operation.succeeded' && m.event.operation === operation), 'and the end');
  t.ok(live.messages.every((m) => m.type === 'snapshot' || Object.keys(m.event!.data).every((k) => ['kind', 'step', 'phase', 'from', 'to', 'seconds', 'code'].includes(k))), 'events carry only step, phase and outcome');
  live.ws.terminate();

  const ready = lastSnapshot(live.messages)!;
  t.equal(ready.team?.url, `http://${slug}.${tp.config.baseDomain}:${tp.nginx.port}/`, 'the team URL');
  t.match(ready.team?.setupUrl, new RegExp(`^http://${slug}\\.${tp.config.baseDomain.replace('.', '\\.')}:${tp.nginx.port}/welcome/[A-Za-z0-9_-]{22,}$`), 'and the owner\'s one-time setup link');
  // The onboarding app's own platform made it (the registry answers from the writer's memory).
  const tenant = await o.platform.repo.get(slug);
  t.match(tenant, { phase: 'running', ownerEmail: 'owner@example.com', displayName: 'Onboard Test', plan: 'starter' }, 'the verified email owns it');
});

t.test('the team answers through nginx, and the setup link opens the owner\'s password page', async (t) => {
  const through = (path: string) => httpGet(`http://127.0.0.1:${tp.nginx.port}${path}`, 10_000, { host: `${slug}.${tp.config.baseDomain}` });
  t.equal((await through('/healthz')).status, 200, 'healthy through nginx');
  const setup = new URL((await call(o.app, 'GET', '/signup', { token })).json().team.setupUrl as string);
  const page = await through(setup.pathname);
  t.equal(page.status, 200);
  t.match(page.body, /owner@example\.com/, 'the setup page is the owner\'s');
});

t.test('the sign-up socket carries only this sign-up\'s tenant: never another\'s, and takes no say in which', async (t) => {
  const { ws, messages } = await socket(token);
  await until(() => messages.length > 0, 5000, 'the snapshot');
  const other = testSlug('onbother');
  await o.platform.events.publish({ type: 'operation.step', tenant: other, operation: 'op-other', data: { kind: 'create', step: 'network' } });
  await o.platform.events.publish({ type: 'tenant.phase', tenant: other, data: { from: 'provisioning', to: 'running' } });
  await o.platform.events.publish({ type: 'tenant.health', tenant: slug, data: { healthy: true, detail: 'internal detail' } });
  await o.platform.events.publish({ type: 'operation.step', tenant: slug, operation: 'op-mine', data: { kind: 'restart', step: 'app:stopping', secret: 'x' } });
  await until(() => messages.some((m) => m.event?.operation === 'op-mine'), 5000, 'its own event');
  t.notOk(messages.some((m) => JSON.stringify(m).includes(other)), 'nothing of the other tenant');
  t.notOk(messages.some((m) => m.event?.type === 'tenant.health'), 'no health detail');
  t.same(messages.find((m) => m.event?.operation === 'op-mine')?.event?.data, { kind: 'restart', step: 'app:stopping' }, 'only the fields a team may see');
  ws.terminate();

  await t.rejects(o.app.injectWS(`/api/v1/onboarding/signup/events?tenant=${other}`, { headers: { 'x-berth-signup': token } }), /400/, 'a tenant in the query is refused');
  await t.rejects(o.app.injectWS('/api/v1/onboarding/signup/events'), /401/, 'no sign-up: 401');
  await t.rejects(o.app.injectWS('/api/v1/events', { headers: { authorization: `Bearer ${token}` } }), /401/, 'the sign-up token is no operator token');
});

t.test('a taken name is refused with a suggestion; the owner\'s address gets the same answer as any other', async (t) => {
  const second = await startSignup(o, smtp, 'owner@example.com', '198.51.100.21');
  await call(o.app, 'POST', '/signup/verify', { token: second.token, body: { code: second.code } });
  const check = (await call(o.app, 'GET', `/signup/slug?slug=${slug}`, { token: second.token })).json();
  t.match(check, { slug, available: false, reason: 'taken', message: /taken by another team/, suggestion: `${slug}-2` });
  const refused = await call(o.app, 'POST', '/signup/team', { token: second.token, body: { displayName: 'Copycat', slug, plan: 'starter' } });
  t.equal(refused.statusCode, 409);
  t.match(refused.json().error, { code: 'SLUG_TAKEN', message: new RegExp(`"${slug}-2" is free`) });
  t.equal((await call(o.app, 'GET', '/signup', { token: second.token })).json().step, 'team', 'still at the team step, nothing made');
  t.equal(await o.platform.repo.get(`${slug}-2`), null);

  const shape = async (email: string) => {
    const res = await call(o.app, 'POST', '/signups', { ip: '198.51.100.22', body: { email, captcha: await solvedCaptcha(o.app) } });
    const { signup: _s, status } = res.json() as { signup: string; status: { step: string; code: object } };
    return { status: res.statusCode, step: status.step, code: Object.keys(status.code) };
  };
  t.same(await shape('owner@example.com'), await shape('stranger@example.com'), 'an owner of a team and a stranger: the same answer');
});

t.test('a host with no room: the visitor is told to try later and keeps the sign-up; operators get an event; nothing is made', async (t) => {
  const full = await startSignup(o, smtp, 'full@example.com', '198.51.100.23');
  t.equal((await call(o.app, 'POST', '/signup/verify', { token: full.token, body: { code: full.code } })).statusCode, 200);
  const fullSlug = testSlug('onbfull');
  // The onboarding platform shares the test platform's reserve (one config object); no host has a pebibyte free.
  const reserve = tp.config.capacity.memoryReserveBytes;
  tp.config.capacity.memoryReserveBytes = 2 ** 50;
  t.teardown(() => void (tp.config.capacity.memoryReserveBytes = reserve));
  const refused = await call(o.app, 'POST', '/signup/team', { token: full.token, body: { displayName: 'Full House', slug: fullSlug, plan: 'starter' } });
  t.equal(refused.statusCode, 503, refused.body);
  t.equal(refused.headers['retry-after'], '300', 'when to try again');
  t.match(refused.json().error, { code: 'CAPACITY', message: /^The platform is full right now and cannot make your team\. Your sign-up is kept: please try again in a few minutes\.$/ });
  t.notMatch(refused.body, /GB|MB|reserve|memory/, 'none of the host\'s figures for a visitor');
  t.equal((await call(o.app, 'GET', '/signup', { token: full.token })).json().step, 'team', 'back at the team step, ready to try again');
  t.equal(await o.platform.repo.get(fullSlug), null, 'no tenant');
  const labels = { 'berth.platform': tp.config.platformId, 'berth.tenant': fullSlug };
  t.same((await Promise.all([runtime.listContainers(labels), runtime.listNetworks(labels), runtime.listVolumes(labels)])).map((l) => l.length), [0, 0, 0], 'nothing in the engine');
  const event = (await o.platform.events.history({ tenant: fullSlug })).find((e) => e.type === 'capacity.refused');
  t.match(event?.data, { work: 'create', plan: 'starter', resource: 'memory', reserveBytes: 2 ** 50 }, 'operators see the refusal with its figures');
});
