// The reconciler converges actual state to the registry: missing containers
// come back, orphans Berth labelled go, missing or stale routes are rewritten,
// and volumes of unknown tenants are never touched.
import t from 'tap';
import { control } from '../../src/proxy/route-control.js';
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
