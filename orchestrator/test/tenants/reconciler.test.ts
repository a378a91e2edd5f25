// The reconciler converges actual state to the registry: missing containers
// come back, orphans Berth labelled go, missing or stale routes are rewritten,
// and volumes of unknown tenants are never touched.
import t from 'tap';
import { control } from '../../src/proxy/route-control.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { silentLogger } from '../../src/log.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { names } from '../../src/names.js';
import { docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('rec');
t.teardown(() => tp.close());
const { tenants, events, reconciler, repo } = tp.platform;
const slug = testSlug('rec');
const host = `${slug}.${tp.config.baseDomain}`;
const { operation } = await tenants.create({ slug });
await operationEnd(events, operation.id);
const viaNginx = () => httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 10_000, { host });

t.test('a steady state needs nothing', async (t) => {
  const report = await reconciler.pass();
  t.same(report, { resumed: [], recreated: [], stopped: [], orphansRemoved: [], straysRemoved: [], routesFixed: [] });
});

t.test('a removed container is recreated', async (t) => {
  await docker('rm', '-f', names.container(slug, 'app'));
  const report = await reconciler.pass();
  t.same(report.recreated, [slug]);
  await until(async () => {
    const doc = await repo.get(slug);
    return doc && !doc.operation ? doc : undefined;
  }, 60_000, 'recreate to end');
  t.equal((await repo.get(slug))?.phase, 'running');
  t.equal((await viaNginx()).status, 200);
});

t.test('a missing or stale route is rewritten', async (t) => {
  // Behind the route manager's back, straight through nginx's control socket:
  // the reconciler reads what nginx holds, not what it last said.
  const host = `${slug}.${tp.config.baseDomain}`;
  const good = (await control(tp.nginx.controlSocket, 'GET', `/entries/${host}`, undefined, 5000)).body.trim();
  t.match(good, new RegExp(`^${host} ${slug} up \\d+ \\d+ \\d+ \\d+ \\d+$`), 'port, body size, rate, burst, connections');
  t.equal((await control(tp.nginx.controlSocket, 'DELETE', `/entries/${host}`, undefined, 5000)).status, 204);
  t.same((await reconciler.pass()).routesFixed, [slug], 'missing route');
  t.equal((await viaNginx()).status, 200);
  t.equal((await control(tp.nginx.controlSocket, 'PUT', '/entries', good.replace(/ up \d+/, ' up 1'), 5000)).status, 204);
  t.equal((await viaNginx()).status, 503, 'the stale route serves (nothing listens on port 1)');
  t.same((await reconciler.pass()).routesFixed, [slug], 'stale route');
  t.equal((await control(tp.nginx.controlSocket, 'GET', `/entries/${host}`, undefined, 5000)).body.trim(), good);
  t.equal((await viaNginx()).status, 200);
});

t.test('orphans Berth labelled are removed; their volumes are kept', async (t) => {
  const ghost = testSlug('ghost');
  const labels = { 'berth.managed': 'true', 'berth.platform': tp.config.platformId, 'berth.tenant': ghost, 'berth.service': 'db' };
  await runtime.ensureNetwork({ name: names.internalNetwork(ghost), labels });
  await runtime.ensureVolume({ name: names.volume(ghost, 'db-data'), labels });
  await runtime.createContainer({
    name: names.container(ghost, 'db'), image: tp.config.images.db, env: {}, labels,
    networks: [{ name: names.internalNetwork(ghost), aliases: ['db'] }], mounts: [{ volume: names.volume(ghost, 'db-data'), target: '/data' }],
    limits: { memoryBytes: 128 * 1024 ** 2, nanoCpus: 5e8, pids: 64 }
  });
  const report = await reconciler.pass();
  t.same(report.orphansRemoved, [ghost]);
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${ghost}`), '');
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${ghost}`), '');
  t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${ghost}`), names.volume(ghost, 'db-data'), 'data is never garbage');
  await runtime.removeVolume(names.volume(ghost, 'db-data'));
});

t.test('what belongs to another platform id is left alone', async (t) => {
  const other = testSlug('other');
  const labels = { 'berth.managed': 'true', 'berth.platform': `${tp.config.platformId}-x`, 'berth.tenant': other };
  await runtime.ensureNetwork({ name: names.internalNetwork(other), labels });
  t.teardown(() => runtime.removeNetwork(names.internalNetwork(other)));
  const report = await reconciler.pass();
  t.same(report.orphansRemoved, []);
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${other}`) !== '', true);
});

t.test('a route with no tenant goes, but not that of a tenant registered while the pass runs', async (t) => {
  // The real engine, with the pass's container listing held until the new tenant is in: the pass read the registry before it.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let listing!: () => void;
  const listed = new Promise<void>((r) => (listing = r));
  const slow = Object.create(tp.platform.runtime) as typeof tp.platform.runtime;
  slow.listContainers = async (labels) => {
    listing();
    await held;
    return tp.platform.runtime.listContainers(labels);
  };
  const { stacks, operations, routes } = tp.platform;
  const racing = new Reconciler(repo, slow, stacks, operations, routes, events, silentLogger, { platformId: tp.config.platformId, instanceId: 'race', intervalMs: 3_600_000 });
  const late = testSlug('late');
  const ghost = testSlug('ghostroute');
  await routes.setRoute(ghost, { kind: 'down', state: 'stopped' });
  const pass = racing.pass();
  await listed;
  const { operation: _none, ...model } = await repo.mustGet(slug);
  const now = new Date();
  await repo.insert({ ...model, _id: late, displayName: 'late', phase: 'stopped', desired: 'stopped', port: 40_999, createdAt: now, updatedAt: now });
  t.teardown(() => tp.platform.db.db.collection<{ _id: string }>('tenants').deleteOne({ _id: late }).then(() => routes.removeRoute(late)));
  await routes.setRoute(late, { kind: 'down', state: 'stopped' });
  release();
  const report = await pass;
  t.same(report.routesFixed, [ghost], 'the route of no tenant is removed, the new tenant\'s is not');
  const held2 = (await control(tp.nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body;
  t.match(held2, `${late}.${tp.config.baseDomain} ${late} down stopped`, 'nginx still serves the new tenant\'s entry');
  t.notMatch(held2, `${ghost}.`, 'and no longer the orphan\'s');
});
