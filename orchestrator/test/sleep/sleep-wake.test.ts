// Teams sleep when idle and wake on request, against the real engine and a
// real nginx: the policy freezes an idle team (its own short times), a request
// through nginx wakes it and gets the app's own answer; ten requests at once
// share one wake; a stopped team wakes too; a browser still waiting gets the
// page that reloads itself, an API client is held to the bound then gets 503
// with Retry-After; a wake that fails shows why, marks the team failed and
// raises an event; the wake listener refuses a hostile slug.
import t from 'tap';
import { httpGet } from '../../src/runtime/http-get.js';
import { config, docker, testSlug } from '../helpers/docker.js';
import { appStartGate } from '../helpers/app-start-gate.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { openTunnel, startUpstream } from '../proxy/fixtures/nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const slug = testSlug('slp');
// The app's start can be held (a slow wake) or made to fail, for this slug only.
const app = appStartGate(slug);

// The policy runs when the test says (a pass each), API clients are held 15 s.
const tp = await startTestPlatform('sleep', { sleep: { intervalMs: 3_600_000, minAvailableBytes: 0, pressureBatch: 1 }, wake: { ...config.wake, holdMs: 15_000 } }, undefined, { wrapRuntime: app.wrapRuntime });
t.teardown(() => tp.close());
const p = tp.platform;
await p.startLoops();

const api = (method: string, path: string, body?: unknown) =>
  p.app.inject({ method: method as 'GET', url: `/api/v1${path}`, headers: { authorization: `Bearer ${tp.token}` }, ...(body === undefined ? {} : { payload: body as object }) });
const states = async () => (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.State}}')).split('\n').filter(Boolean).sort();
const settle = async () => {
  await p.operations.settled();
  return p.repo.get(slug);
};

const created = await p.tenants.create({ slug });
t.equal((await operationEnd(p.events, created.operation.id)).type, 'operation.succeeded', 'created');

t.test('its own sleep times are validated and shown in the tenant view', async (t) => {
  const bad = await api('PUT', `/tenants/${slug}/sleep`, { pause: '5x' });
  t.equal(bad.statusCode, 400, 'a duration that is not one is refused');
  t.equal((await p.repo.get(slug))?.sleep, undefined, 'and nothing changed');
  t.equal((await api('PUT', `/tenants/${slug}/sleep`, { pause: 'x'.repeat(5000) })).statusCode, 400, 'a long value is refused');
  const ok = await api('PUT', `/tenants/${slug}/sleep`, { pause: '1s', stop: 'never' });
  t.equal(ok.statusCode, 200, 'set');
  t.same(ok.json().sleep, { pause: '1s', stop: 'never', override: { pause: '1s', stop: 'never' }, plan: { pause: '15m', stop: '12h' } }, "the plan's times beside the team's own");
});

t.test('idle for its pause time, the team is frozen; a request wakes it with the app\'s own answer', async (t) => {
  await until(async () => Date.now() - (await p.sleepPolicy.idleSince((await p.repo.get(slug))!)).getTime() > 1500, 10_000, 'a second and a half of idleness');
  const report = await p.sleepPolicy.pass();
  t.same(report.frozen, [slug], 'the policy froze it');
  t.equal((await settle())?.phase, 'frozen');
  t.same(await states(), ['paused', 'paused', 'paused'], 'every container paused, none left running');
  const route = await p.routes.isCurrent(slug, p.stacks.sleepRoute());
  t.ok(route, 'its route hands requests to the wake listener');
  // Not again in the next pass: a frozen team waits for its stop time (never here).
  t.same((await p.sleepPolicy.pass()).frozen, []);
  // Neither the health monitor nor the reconciler "heals" a team that sleeps.
  await p.monitor.checkAll();
  const reconciled = await p.reconciler.pass();
  t.notOk(reconciled.recreated.includes(slug) || reconciled.routesFixed.includes(slug), 'the reconciler leaves it as it is');
  await p.operations.settled();
  t.equal((await p.repo.get(slug))?.phase, 'frozen', 'still frozen after a health pass and a reconcile pass');
  t.same(await states(), ['paused', 'paused', 'paused'], 'still paused');

  const wakes = p.waker.wakesStarted;
  const answer = await throughNginx(tp, slug, 'GET', '/healthz');
  t.equal(answer.status, 200, 'the held request got the app\'s answer');
  t.match(answer.body.toString(), /ok/);
  t.equal(p.waker.wakesStarted, wakes + 1, 'one wake');
  const doc = await settle();
  t.equal(doc?.phase, 'running');
  t.same(await states(), ['running', 'running', 'running']);
  t.ok(await p.routes.isCurrent(slug, p.stacks.upRoute(doc!)), 'the route is `up` again');
});

t.test('ten requests at once for a frozen team share one wake', async (t) => {
  await p.tenants.sleep(slug);
  t.equal((await settle())?.phase, 'frozen');
  const wakes = p.waker.wakesStarted;
  const answers = await Promise.all(Array.from({ length: 10 }, () => throughNginx(tp, slug, 'GET', '/healthz')));
  t.same(answers.map((a) => a.status), Array(10).fill(200), 'all ten served');
  t.equal(p.waker.wakesStarted, wakes + 1, 'by one wake operation');
  const events = await p.events.history({ tenant: slug }, 1000);
  const wakeOps = new Set(events.filter((e) => e.type === 'operation.started' && (e.data as { kind?: string }).kind === 'wake').map((e) => e.operation));
  t.equal(wakeOps.size, 2, 'two wakes in the team\'s history: the first test\'s and this one');
  t.equal((await settle())?.phase, 'running');
});

t.test('a stopped (sleeping) team wakes on request too', async (t) => {
  await p.tenants.sleep(slug, { stop: true });
  t.equal((await settle())?.phase, 'sleeping');
  t.same(await states(), [], 'stopped, then its containers let go: no memory held');
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'and no network (each costs the host iptables rules)');
  t.equal((await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').filter(Boolean).length, 2, 'its data stays: both volumes');
  const answer = await throughNginx(tp, slug, 'GET', '/healthz', {}, undefined, 60_000);
  t.equal(answer.status, 200);
  t.equal((await settle())?.phase, 'running');
});

t.test('a slow wake: a browser gets the page that continues by itself, an API client 503 with Retry-After after the bound', async (t) => {
  await p.tenants.sleep(slug, { stop: true });
  t.equal((await settle())?.phase, 'sleeping');
  let release!: () => void;
  app.gate = new Promise((resolve) => (release = resolve));
  const browser = await throughNginx(tp, slug, 'GET', '/', { accept: 'text/html,application/xhtml+xml' });
  t.equal(browser.status, 503);
  t.match(browser.body.toString(), /<meta http-equiv='refresh' content='1'>/, 'the page reloads itself');
  t.match(browser.body.toString(), /waking up/);
  const apiClient = await throughNginx(tp, slug, 'GET', '/healthz', { accept: 'application/json' });
  t.equal(apiClient.status, 503, 'held to the bound (15 s here), then 503');
  t.ok(Number(apiClient.headers['retry-after']) > 0, 'with Retry-After');
  release();
  app.gate = undefined;
  const answer = await throughNginx(tp, slug, 'GET', '/healthz', { accept: 'application/json' }, undefined, 60_000);
  t.equal(answer.status, 200, 'the same wake finished, the next request is served');
  t.equal((await settle())?.phase, 'running');
});

t.test('a wake that fails: the visitor sees why, the team is failed, operators get an event', async (t) => {
  await p.tenants.sleep(slug, { stop: true });
  t.equal((await settle())?.phase, 'sleeping');
  app.fail = new Error('injected: the app would not start');
  const answer = await throughNginx(tp, slug, 'GET', '/', { accept: 'text/html' }, undefined, 60_000);
  await p.operations.settled();
  app.fail = undefined;
  // A browser may first get the waking page; the failure is then on the next ask.
  const final = answer.body.toString().includes('could not be woken') ? answer : await until(async () => {
    const a = await throughNginx(tp, slug, 'GET', '/', { accept: 'text/html' });
    return a.body.toString().includes('could not') ? a : undefined;
  }, 60_000, 'the failure to show');
  t.equal(final.status, 503);
  t.match(final.body.toString(), /could not/);
  const doc = await settle();
  t.equal(doc?.phase, 'failed', 'marked failed');
  const events = await p.events.history({ tenant: slug }, 200);
  t.ok(events.some((e) => e.type === 'tenant.wake_failed'), 'tenant.wake_failed raised');
  t.same((await states()).filter((s) => s === 'running' || s === 'paused'), [], 'nothing left half awake');
  // An operator starts it again.
  const { operation } = await p.tenants.start(slug);
  t.equal((await operationEnd(p.events, operation.id)).type, 'operation.succeeded');
});

t.test('the wake listener refuses what is not a slug, and listens on loopback only', async (t) => {
  const port = tp.config.wake.port;
  for (const path of ['/wake/..%2F..%2Fetc', '/wake/A_B', `/wake/${'a'.repeat(33)}`, '/wake/ab', '/wake/a--b', '/other']) {
    const res = await httpGet(`http://127.0.0.1:${port}${path}`, 5000);
    t.equal(res.status, 400, `${path.slice(0, 40)} refused`);
  }
  t.equal((await httpGet(`http://127.0.0.1:${port}/wake/nobody-here`, 5000)).status, 404, 'no such team');
  const gateway = await p.runtime.hostGatewayAddress();
  const addresses = (await docker('exec', (await docker('ps', '--filter', `label=berth.tenant=${slug}`, '--filter', 'label=berth.service=app', '--format', '{{.Names}}')).trim(),
    'node', '-e', `const s=require('net').connect(${port},'${gateway}');s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},3000)`).catch((e: Error) => e.message)).trim();
  t.not(addresses, 'open', `a team's container cannot reach the wake listener (${addresses.slice(0, 80)})`);
});

t.test('an open WebSocket through nginx keeps a team awake', async (t) => {
  // The team's app has no WebSocket of its own: its route points at an echo
  // server that upgrades, so nginx counts a real open WebSocket for the team.
  await api('PUT', `/tenants/${slug}/sleep`, { pause: '1s', stop: 'never' });
  const doc = (await p.repo.get(slug))!;
  const echo = await startUpstream(t, 'ws-echo');
  await p.routes.setRoute(slug, { ...p.stacks.upRoute(doc), port: echo.port });
  const ws = await openTunnel(t, tp.nginx.port, `${slug}.${tp.config.baseDomain}`);
  t.equal(ws.status, 101);
  await until(async () => (await p.activity.refresh(), p.activity.activity(slug).openWebSockets === 1), 10_000, 'nginx to count the WebSocket');
  await until(async () => Date.now() - p.sleepPolicy.idleSince((await p.repo.get(slug))!).getTime() > 1500, 10_000, 'idle past the pause time');
  t.same((await p.sleepPolicy.pass()).frozen, [], 'an open WebSocket: not frozen');
  t.equal((await p.repo.get(slug))?.phase, 'running');
  ws.close();
  await until(async () => (await p.activity.refresh(), p.activity.activity(slug).openWebSockets === 0), 10_000, 'the WebSocket to close');
  await p.routes.setRoute(slug, p.stacks.upRoute(doc));
  // Closed: its end counts as a request, so the team is idle again from then.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.same((await p.sleepPolicy.pass()).frozen, [slug], 'closed and idle: frozen');
  t.equal((await settle())?.phase, 'frozen');
});
