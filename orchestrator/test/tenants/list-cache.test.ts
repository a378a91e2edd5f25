// GET /api/v1/tenants keeps its serialized answer until something it shows
// changes (tenant-views.ts listJson). On a real platform with one real team:
// a read with nothing changed is the same text and builds nothing; each
// source of the list, changed for real, shows in the next answer: a registry
// write, a container stopped outside Berth, the edge's activity read through
// a real nginx, a storage figure measured in the team's storage container.
// Each filter keeps its own answer.
import t from 'tap';
import { httpGet } from '../../src/runtime/http-get.js';
import { names } from '../../src/names.js';
import { runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('lcache');
t.teardown(() => tp.close());
const { app, events, tenantViews } = tp.platform;
const auth = { authorization: `Bearer ${tp.token}` };
const slug = testSlug('lc');

let builds = 0;
const build = tenantViews.list.bind(tenantViews);
tenantViews.list = async (filter) => {
  builds++;
  return build(filter);
};

t.before(async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug } });
  if (created.statusCode !== 202) throw new Error(`create: ${created.statusCode} ${created.body}`);
  const end = await operationEnd(events, created.json().operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`create failed: ${JSON.stringify(end.data)}`);
});

type Listed = { slug: string; phase: string; services: Record<string, string>; sleep?: { override?: { pause?: string } }; activity?: { requests: number }; storage?: { usedBytes?: number } };
async function list(query = ''): Promise<{ body: string; mine: Listed | undefined; all: Listed[] }> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/tenants${query}`, headers: auth });
  if (res.statusCode !== 200) throw new Error(`list: ${res.statusCode} ${res.body}`);
  if (!/^application\/json/.test(String(res.headers['content-type']))) throw new Error(`list: content type ${res.headers['content-type']}`);
  const all = res.json().tenants as Listed[];
  return { body: res.body, mine: all.find((e) => e.slug === slug), all };
}

t.test('nothing changed: the same text, nothing built again, and it is what list() builds', async (t) => {
  const first = await list();
  const before = builds;
  const again = await list();
  t.equal(again.body, first.body, 'the same answer');
  t.equal(builds, before, 'not built again');
  t.same(JSON.parse(first.body).tenants.map((e: Listed) => e.slug), (await build({})).map((e) => e.slug), 'the same teams list() gives');
  t.equal(first.mine?.phase, 'running');
});

t.test('a registry write shows in the next answer', async (t) => {
  await list();
  const res = await app.inject({ method: 'PUT', url: `/api/v1/tenants/${slug}/sleep`, headers: auth, payload: { pause: '2h' } });
  t.equal(res.statusCode, 200, res.body);
  t.equal((await list()).mine?.sleep?.override?.pause, '2h');
});

t.test('a container stopped outside Berth shows once the containers are listed again', async (t) => {
  await list();
  await runtime.stopContainer(names.container(slug, 'storage'), 5);
  // The list starts a new container list call when its last is older than a couple of seconds.
  const shown = await until(async () => ((await list()).mine?.services.storage === 'exited' ? true : undefined), 20_000, 'the stopped storage container in the list');
  t.ok(shown);
  await runtime.startContainer(names.container(slug, 'storage'));
  await until(async () => ((await list()).mine?.services.storage === 'running' ? true : undefined), 20_000, 'the storage container running again in the list');
});

t.test("the edge's activity, read from nginx, shows in the next answer", async (t) => {
  const before = (await list()).mine?.activity?.requests ?? 0;
  const answer = await httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 10_000, { host: `${slug}.${tp.config.baseDomain}` });
  t.equal(answer.status, 200, 'a request through nginx');
  await tp.platform.activity.refresh();
  t.ok(((await list()).mine?.activity?.requests ?? 0) > before, 'the request is counted');
});

t.test('a storage figure measured shows in the next answer', async (t) => {
  await list();
  const one = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth }); // measures a missing or stale figure
  t.equal(one.statusCode, 200);
  const measured = one.json().storage?.usedBytes as number | undefined;
  t.type(measured, 'number', 'the team page measured its storage');
  t.equal((await list()).mine?.storage?.usedBytes, measured);
});

t.test('each filter keeps its own answer', async (t) => {
  const running = await list('?phase=running');
  const stopped = await list('?phase=stopped');
  t.ok(running.mine, 'the running team under phase=running');
  t.notOk(stopped.mine, 'and not under phase=stopped');
  t.ok(stopped.all.every((e) => e.phase === 'stopped'));
  const before = builds;
  t.equal((await list('?phase=running')).body, running.body);
  t.equal((await list('?phase=stopped')).body, stopped.body);
  t.equal(builds, before, 'neither built again');
});
