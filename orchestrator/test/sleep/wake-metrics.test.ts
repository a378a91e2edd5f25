// The sleep metrics through GET /metrics, after real wakes on the real engine
// and a real nginx: berth_tenants lists every phase (0 when none), and
// berth_wake_duration_seconds observes each wake once, whoever asked (a
// request through nginx, the API), by where it woke from and how it ended.
import t from 'tap';
import { PHASES } from '../../src/tenants/tenant.types.js';
import { WAKE_BUCKETS } from '../../src/tenants/sleep-commands.js';
import { config, testSlug } from '../helpers/docker.js';
import { appStartGate } from '../helpers/app-start-gate.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const slug = testSlug('wm');
// The app's start made to fail, for this slug only: a wake that fails.
const app = appStartGate(slug);

// No policy passes of its own: the test puts the team to sleep.
const tp = await startTestPlatform('wmet', { sleep: { intervalMs: 3_600_000, minAvailableBytes: 0, pressureBatch: 1 }, wake: { ...config.wake, holdMs: 15_000 } }, undefined, { wrapRuntime: app.wrapRuntime });
t.teardown(() => tp.close());
const p = tp.platform;
await p.startLoops();

const scrape = async () => {
  const res = await p.app.inject({ method: 'GET', url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return res.body;
};
/** One series' value, or undefined when it is not there. */
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const count = (text: string, from: string, outcome: string) => value(text, `berth_wake_duration_seconds_count{from="${from}",outcome="${outcome}"}`) ?? 0;
const settle = async () => {
  await p.operations.settled();
  return p.repo.get(slug);
};

const created = await p.tenants.create({ slug });
t.equal((await operationEnd(p.events, created.operation.id)).type, 'operation.succeeded', 'created');

t.test('berth_tenants lists every phase, 0 when none', async (t) => {
  const text = await scrape();
  t.match(text, '# TYPE berth_tenants gauge');
  for (const phase of PHASES) t.type(value(text, `berth_tenants{phase="${phase}"}`), 'number', `phase ${phase} listed`);
  t.ok(value(text, 'berth_tenants{phase="running"}')! >= 1, 'the team made here runs');
  t.equal(value(text, 'berth_tenants{phase="frozen"}'), 0, 'frozen: 0');
  t.equal(value(text, 'berth_tenants{phase="sleeping"}'), 0, 'sleeping: 0');
  t.match(text, '# TYPE berth_wake_duration_seconds histogram', 'the wake histogram is declared before any wake');
});

t.test('a frozen team woken by a request through nginx: one observation, from="frozen", outcome="ok"', async (t) => {
  await p.tenants.sleep(slug);
  t.equal((await settle())?.phase, 'frozen');
  t.equal(value(await scrape(), 'berth_tenants{phase="frozen"}'), 1, 'the gauge counts it frozen');
  const before = await scrape();
  const answer = await throughNginx(tp, slug, 'GET', '/healthz');
  t.equal(answer.status, 200, 'served after the wake');
  t.equal((await settle())?.phase, 'running');
  const after = await scrape();
  t.equal(count(after, 'frozen', 'ok') - count(before, 'frozen', 'ok'), 1, 'observed once');
  t.equal(value(after, 'berth_tenants{phase="frozen"}'), 0, 'and no longer counted frozen');
  const labels = 'from="frozen",outcome="ok"';
  const buckets = WAKE_BUCKETS.map((le) => value(after, `berth_wake_duration_seconds_bucket{${labels},le="${le}"}`));
  t.ok(buckets.every((b) => typeof b === 'number'), `a bucket for each bound from ${WAKE_BUCKETS[0]} s to ${WAKE_BUCKETS.at(-1)} s`);
  t.ok(buckets.every((b, i) => i === 0 || b! >= buckets[i - 1]!), 'cumulative');
  t.equal(value(after, `berth_wake_duration_seconds_bucket{${labels},le="+Inf"}`), count(after, 'frozen', 'ok'), '+Inf is the count');
  t.ok(value(after, `berth_wake_duration_seconds_sum{${labels}}`)! > 0, 'the time is summed');
});

t.test('a sleeping team woken through the API: from="sleeping", outcome="ok"', async (t) => {
  await p.tenants.sleep(slug, { stop: true });
  t.equal((await settle())?.phase, 'sleeping');
  t.equal(value(await scrape(), 'berth_tenants{phase="sleeping"}'), 1, 'the gauge counts it sleeping');
  const before = await scrape();
  const res = await p.app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/actions/wake`, headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(res.statusCode, 202, res.body);
  t.equal((await operationEnd(p.events, res.json().operation.id, 120_000)).type, 'operation.succeeded');
  // The observation follows the operation's end event.
  await until(async () => count(await scrape(), 'sleeping', 'ok') > count(before, 'sleeping', 'ok'), 10_000, 'the wake to be observed');
  t.equal(count(await scrape(), 'sleeping', 'ok') - count(before, 'sleeping', 'ok'), 1, 'observed once');
  t.equal(count(await scrape(), 'frozen', 'ok') - count(before, 'frozen', 'ok'), 0, 'not as a wake from frozen');
});

t.test('a wake that fails: outcome="failed"', async (t) => {
  await p.tenants.sleep(slug, { stop: true });
  t.equal((await settle())?.phase, 'sleeping');
  const before = await scrape();
  app.fail = new Error('injected: the app would not start');
  t.teardown(() => (app.fail = undefined));
  const started = await p.sleep.wake(slug);
  t.equal((await operationEnd(p.events, started.operation.id, 120_000)).type, 'operation.failed');
  app.fail = undefined;
  await until(async () => count(await scrape(), 'sleeping', 'failed') > count(before, 'sleeping', 'failed'), 10_000, 'the failed wake to be observed');
  const after = await scrape();
  t.equal(count(after, 'sleeping', 'failed') - count(before, 'sleeping', 'failed'), 1, 'observed once, as failed');
  t.equal(count(after, 'sleeping', 'ok') - count(before, 'sleeping', 'ok'), 0, 'not as ok');
  t.equal((await settle())?.phase, 'failed');
  t.equal(value(after, 'berth_tenants{phase="failed"}'), 1, 'the gauge counts it failed');
});
