// Tenant CPU and memory from the real engine (the endpoint and the periodic
// tenant.stats events), and the templates page data, through the API.
import t from 'tap';
import type { BerthEvent } from '../../src/events/event-bus.js';
import { mapLimit } from '../../src/stats/map-limit.js';
import { StatsCollector } from '../../src/stats/stats.collector.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { testLogger } from '../helpers/test-log.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('stats');
const { app, events } = tp.platform;
const slug = testSlug('stats');
try {
  const created = await tp.platform.tenants.create({ slug, plan: 'starter' });
  const end = await operationEnd(events, created.operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`tenant did not start: ${JSON.stringify(end.data)}`);
} catch (err) {
  await tp.close();
  throw err;
}
t.teardown(() => tp.close());
const auth = { authorization: `Bearer ${tp.token}` };
const MiB = 1024 * 1024;

t.test('GET /tenants/:slug/stats: CPU and memory of each running service, and their sums', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}/stats`, headers: auth });
  t.equal(res.statusCode, 200, res.body);
  const s = res.json();
  t.same(Object.keys(s.services).sort(), ['app', 'db', 'storage']);
  for (const [name, svc] of Object.entries<Record<string, number>>(s.services)) {
    t.ok(svc.cpuPercent >= 0 && Number.isFinite(svc.cpuPercent), `${name} cpu is a number`);
    t.ok(svc.memoryBytes > 0, `${name} uses memory`);
  }
  t.equal(s.services.app.memoryLimitBytes, 256 * MiB, 'the starter plan limit');
  t.equal(s.memoryLimitBytes, (256 + 256 + 512) * MiB);
  t.equal(s.memoryBytes, s.services.app.memoryBytes + s.services.db.memoryBytes + s.services.storage.memoryBytes);
  const missing = await app.inject({ method: 'GET', url: '/api/v1/tenants/tnobody-0000/stats', headers: auth });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().error.code, 'TENANT_NOT_FOUND');
});

t.test('a collector pass publishes one tenant.stats event per running tenant; the loop starts and stops', async (t) => {
  const got: BerthEvent[] = [];
  const unsubscribe = events.subscribe((e) => e.type === 'tenant.stats' && got.push(e));
  t.teardown(unsubscribe);
  t.equal(await tp.platform.stats.pass(), 1, 'one tenant');
  t.equal(got.length, 1);
  t.equal(got[0]!.tenant, slug);
  t.match(got[0]!.data, { cpuPercent: Number, memoryBytes: Number, memoryLimitBytes: Number, services: { app: { memoryBytes: Number }, db: {}, storage: {} } });

});

t.test('activity from the edge: requests through nginx show in the tenant views, a tenant.activity event and /metrics', async (t) => {
  const got: BerthEvent[] = [];
  const unsubscribe = events.subscribe((e) => e.type === 'tenant.activity' && e.tenant === slug && got.push(e));
  t.teardown(unsubscribe);
  await tp.platform.stats.pass();
  const viewOf = async () => (await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth })).json().activity;
  const before = await viewOf();
  t.match(before, { requests: Number, errors: Number, openWebSockets: 0, readAt: String }, 'read once: the view carries it');
  const started = Date.now();
  for (let i = 0; i < 3; i++) t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200);
  // Not a team's host, whatever the headers claim: counted for nobody.
  t.equal((await throughNginx(tp, 'tnobody-0000', 'GET', '/', { 'X-Berth-Route': slug, 'X-Forwarded-Host': `${slug}.${tp.config.baseDomain}` })).status, 404);
  const seen = await until(async () => {
    await tp.platform.stats.pass();
    const a = await viewOf();
    return a.requests >= before.requests + 3 && a;
  }, 30_000, 'the three requests in the tenant view');
  t.equal(seen.requests, before.requests + 3, 'exactly our three requests');
  t.equal(seen.errors, before.errors);
  t.ok(Date.parse(seen.lastRequestAt) >= started - 1000, `last request ${seen.lastRequestAt}, just now`);
  t.same(tp.platform.activity.activity(slug), { lastRequestAt: new Date(seen.lastRequestAt), requests: seen.requests, errors: seen.errors, openWebSockets: 0 },
    'activity(slug), what the sleep-when-idle work reads');
  const event = got.at(-1);
  t.match(event?.data, { requests: seen.requests, errors: seen.errors, openWebSockets: 0, lastRequestAt: seen.lastRequestAt }, 'the pass published it live');
  const list = (await app.inject({ method: 'GET', url: '/api/v1/tenants', headers: auth })).json();
  t.same(list.tenants.find((x: { slug: string }) => x.slug === slug).activity, seen, 'the list shows the same');
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, `# TYPE berth_tenant_requests_total counter\nberth_tenant_requests_total{tenant="${slug}"} ${seen.requests}\n`);
  t.match(metrics, `berth_tenant_request_errors_total{tenant="${slug}"} ${seen.errors}\n`);
  t.match(metrics, `berth_tenant_open_websockets{tenant="${slug}"} 0\n`);
  t.match(metrics, `berth_tenant_last_request_timestamp_seconds{tenant="${slug}"} ${Date.parse(seen.lastRequestAt) / 1000}\n`);
  t.notMatch(metrics, /tenant="tnobody/, 'no series for a host no team owns');
});

t.test('activity another reader took first (the sleep policy refreshes too) is still published as tenant.activity', async (t) => {
  const got: BerthEvent[] = [];
  const unsubscribe = events.subscribe((e) => e.type === 'tenant.activity' && e.tenant === slug && got.push(e));
  t.teardown(unsubscribe);
  await tp.platform.activity.refresh();
  const before = tp.platform.activity.activity(slug).requests;
  t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200);
  // Not the stats pass: the read the sleep policy makes at the start of its own pass.
  await until(async () => (await tp.platform.activity.refresh(), tp.platform.activity.activity(slug).requests > before), 30_000, 'the request counted');
  t.match(got.at(-1)?.data, { requests: before + 1 }, 'the event went out on that read');
  const published = got.length;
  await tp.platform.stats.pass();
  t.equal(got.length, published, 'the stats pass has nothing new to say: each change is published once');
});

t.test('stop waits for the pass under way: its reads have ended and its event is out when stop returns', async (t) => {
  // The real engine behind a counter of the stats reads in flight (each takes
  // ~1-2 s on Docker 20.10: it waits for a second sample), and a loop of its
  // own with a short interval so that a pass begins at once.
  const engine = tp.platform.runtime;
  let reading = 0;
  let reads = 0;
  const counted: typeof engine = Object.create(engine);
  counted.stats = async (name) => {
    reading++;
    reads++;
    try {
      return await engine.stats(name);
    } finally {
      reading--;
    }
  };
  const collector = new StatsCollector(tp.platform.repo, counted, events, testLogger('stats-stop').log, { platformId: tp.config.platformId, intervalMs: 10, concurrency: 3 });
  const got: BerthEvent[] = [];
  const unsubscribe = events.subscribe((e) => e.type === 'tenant.stats' && got.push(e));
  t.teardown(unsubscribe);

  collector.start();
  await until(() => reading > 0, 30_000, 'a pass reading stats');
  t.equal(got.length, 0, 'the pass has not ended yet');
  await collector.stop();
  t.equal(reading, 0, 'no read left in flight');
  t.equal(got.length, 1, 'the pass ended and published before stop returned');
  t.equal(got[0]!.tenant, slug);
  const after = reads;
  // A pass scheduled after stop would begin within the 10 ms interval; a
  // second, real pass (list, ~1-2 s of reads) is the signal that it did not.
  t.equal(await tp.platform.stats.pass(), 1);
  t.equal(reads, after, 'the stopped loop began no pass of its own');
});

t.test('GET /templates: every loaded template with its plans and services', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/templates', headers: auth });
  t.equal(res.statusCode, 200, res.body);
  const tenant = res.json().templates.find((x: { name: string }) => x.name === 'tenant');
  t.match(tenant, {
    name: 'tenant',
    description: /app \+ MongoDB \+ MinIO/,
    version: 1,
    route: { service: 'app', port: 3000 },
    defaultPlan: 'starter',
    plans: {
      starter: { description: 'Small teams', storageQuotaBytes: 1024 * MiB, edge: { ratePerMinute: 3000, burst: 100, connections: 50, maxBodyBytes: 100 * MiB }, sleep: { pause: '15m', stop: '12h' }, services: { app: { memory: '256m', memoryBytes: 256 * MiB, cpus: 0.5, pids: 256 } } },
      team: { sleep: { pause: '15m', stop: '12h' }, storageQuotaBytes: 10 * 1024 * MiB, edge: { ratePerMinute: 60_000, burst: 2000, connections: 200, maxBodyBytes: 500 * MiB }, services: { storage: { memory: '1g', cpus: 1, pids: 1024 } } }
    }
  });
  t.same(tenant.services.map((s: { name: string }) => s.name).sort(), ['app', 'db', 'storage']);
  t.equal(tenant.services.find((s: { name: string }) => s.name === 'db').image, tp.config.images.db, 'images as configured');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/templates' })).statusCode, 401);
});

t.test('mapLimit: order kept, never more than the limit at once', async (t) => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
    peak = Math.max(peak, ++running);
    await new Promise((r) => setTimeout(r, n * 3));
    running--;
    return n * 10;
  });
  t.same(out, [50, 10, 40, 20, 30, 0]);
  t.equal(peak, 2);
  t.same(await mapLimit([], 3, async () => 1), []);
  await until(() => running === 0, 1000, 'all done');
});
