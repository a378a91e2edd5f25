// A team's plan reaches the edge, on a whole platform (real engine, database,
// nginx): its `up` entry carries the plan's body size, rate, burst and
// connections; a body over the plan's size is 413 at nginx and one under it
// reaches the app; and when the team's plan changes, the reconciler sees the
// route as stale and rewrites it with the new plan's limits, containers kept.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { control } from '../../src/proxy/route-control.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { request } from '../proxy/fixtures/nginx.js';

// The default template, with a small body size on starter and a plan `fast`
// that differs from starter only at the edge (its containers are the same).
const original = await readFile(path.join(ROOT_DIR, 'templates/tenant.yaml'), 'utf8');
const starterEdge = 'edge: { rate: 50r/s, burst: 100, connections: 50, max_body_size: 100m }';
const template = original
  .replace(starterEdge, 'edge: { rate: 300r/m, burst: 100, connections: 50, max_body_size: 64k }')
  .replace('    team:\n', [
    '    fast:',
    '      description: Starter with a wider edge',
    '      storage_quota: 1g',
    '      edge: { rate: 600r/s, burst: 10, connections: 7, max_body_size: 1m }',
    '      limits:',
    '        app: { memory: 256m, cpus: 0.5, pids: 256 }',
    '        db: { memory: 256m, cpus: 0.5, pids: 256 }',
    '        storage: { memory: 512m, cpus: 0.5, pids: 512 }',
    '    team:\n'
  ].join('\n'));
if (!template.includes('max_body_size: 64k') || !template.includes('    fast:')) throw new Error('the test template did not take its changes');
const dir = t.testdir({ 'tenant.yaml': template });

const tp = await startTestPlatform('edg', { templatesDir: dir });
t.teardown(() => tp.close());
const { tenants, events, reconciler, repo } = tp.platform;
const slug = testSlug('edg');
const host = `${slug}.${tp.config.baseDomain}`;
const entry = async () => (await control(tp.nginx.controlSocket, 'GET', `/entries/${host}`, undefined, 5000)).body.trim();
const post = (bytes: number) => request(tp.nginx.port, host, { method: 'POST', path: '/healthz', body: 'x'.repeat(bytes), headers: { 'content-type': 'application/octet-stream' } });

const started = performance.now();
const { operation } = await tenants.create({ slug, plan: 'starter' });
await operationEnd(events, operation.id);
t.comment(`team up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

t.test('the team\'s entry carries its plan\'s limits; a body over the plan\'s size is 413, under it reaches the app', async (t) => {
  const doc = await repo.mustGet(slug);
  t.equal(doc.phase, 'running');
  t.equal(await entry(), `${host} ${slug} up ${doc.port} ${64 * 1024} 300 100 50`, 'port, 64k, 300 a minute, burst 100, 50 at once');
  const big = await post(100 * 1024);
  t.equal(big.status, 413, 'over the plan\'s 64k');
  t.match(big.body, /accepts request bodies up to 65536 bytes/);
  const small = await post(1024);
  t.not(small.status, 413, `under it: the app answered (${small.status})`);
  t.not(small.status, 429);
  t.equal(small.headers['x-berth-route'], slug);
});

t.test('a plan change reaches the team\'s entry through the reconciler, containers kept', async (t) => {
  const before = await repo.mustGet(slug);
  const healthy = await reconciler.pass();
  t.same(healthy.routesFixed, [], 'nothing to fix while the plan is unchanged');
  await repo.update(slug, { $set: { plan: 'fast' } });
  const report = await reconciler.pass();
  t.same(report.routesFixed, [slug], 'the route is stale: the plan\'s limits changed');
  t.same(report.recreated, [], 'the containers did not change');
  t.equal(await entry(), `${host} ${slug} up ${before.port} ${1024 * 1024} 36000 10 7`, 'fast: 1m, 600 a second, burst 10, 7 at once');
  t.not((await post(100 * 1024)).status, 413, 'the larger body now passes');
  t.same((await reconciler.pass()).routesFixed, [], 'and it stays current');
});
