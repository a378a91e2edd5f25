// Admission on a real platform (real engine, real nginx, real stacks), with
// the host's reserve set past what this host has, then back: a create is
// refused with 503 CAPACITY and leaves nothing behind; a start of a stopped
// team and a wake of a sleeping one (through nginx and through the API) are
// refused, the team staying as it was, not failed; an upgrade's second app is
// refused and the team keeps serving its version; every refusal is an event
// operators see; with room again each goes through.
import t from 'tap';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';
import { removeVersions, tagVersion, testVersion } from '../helpers/app-versions.js';
import { berth } from '../helpers/berth-cli.js';
import type { CapacityView } from '../../src/contract/index.js';

const slug = testSlug('adm');
const refusedSlug = testSlug('admno');
const next = testVersion('adm');
// The sleep policy runs only when a test asks; the reserve is changed by each test.
const tp = await startTestPlatform('admit', { sleep: { intervalMs: 3_600_000, minAvailableBytes: 0, pressureBatch: 1 } });
t.teardown(async () => {
  await tp.close();
  await removeVersions(next);
});
const p = tp.platform;
await p.startLoops();
const reserve = tp.config.capacity.memoryReserveBytes;
/** No host has a pebibyte free: every check refuses. */
const full = () => void (tp.config.capacity.memoryReserveBytes = 2 ** 50);
const room = () => void (tp.config.capacity.memoryReserveBytes = reserve);
const api = (method: string, path: string, body?: unknown) =>
  p.app.inject({ method: method as 'GET', url: `/api/v1${path}`, headers: { authorization: `Bearer ${tp.token}` }, ...(body === undefined ? {} : { payload: body as object }) });
const refusals = async (tenant: string) => (await p.events.history({ tenant })).filter((e) => e.type === 'capacity.refused');
const owned = async (tenant: string) => {
  const labels = { 'berth.platform': tp.config.platformId, 'berth.tenant': tenant };
  const [c, n, v] = await Promise.all([runtime.listContainers(labels), runtime.listNetworks(labels), runtime.listVolumes(labels)]);
  return [c.length, n.length, v.length];
};

t.test('a create the host has no room for: 503 CAPACITY with the figures, nothing made, an event; with room it is made', async (t) => {
  full();
  t.teardown(room);
  const res = await api('POST', '/tenants', { slug: refusedSlug });
  t.equal(res.statusCode, 503, res.body);
  t.equal(res.headers['retry-after'], '60', 'says when to ask again');
  t.match(res.json().error, { code: 'CAPACITY', message: /no room for another starter team \(create of .*\): [\d.]+ GB memory free, the team may take 1\.0 GB, and 1048576\.0 GB is kept in reserve; try again later/ });
  t.equal((await api('GET', `/tenants/${refusedSlug}`)).statusCode, 404, 'no tenant in the registry');
  t.same(await owned(refusedSlug), [0, 0, 0], 'no container, network or volume');
  t.match((await refusals(refusedSlug))[0]?.data, { work: 'create', plan: 'starter', resource: 'memory', needBytes: 1024 ** 3, reserveBytes: 2 ** 50 }, 'operators see it');
  t.same(p.admission.holding(), { memoryBytes: 0, diskBytes: 0, count: 0 }, 'a refusal holds nothing');

  room();
  const made = await api('POST', '/tenants', { slug });
  t.equal(made.statusCode, 202, made.body);
  t.equal((await operationEnd(p.events, made.json().operation.id)).type, 'operation.succeeded');
  t.same(p.admission.holding().count, 0, 'the room a create held is let go when it ends');
  t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200, 'it serves');
});

t.test('a stopped team is not started while the host is full; it stays stopped, not failed', async (t) => {
  const stopped = await api('POST', `/tenants/${slug}/actions/stop`);
  t.equal((await operationEnd(p.events, stopped.json().operation.id)).type, 'operation.succeeded');
  full();
  t.teardown(room);
  const res = await api('POST', `/tenants/${slug}/actions/start`);
  t.equal(res.statusCode, 503, res.body);
  t.match(res.json().error, { code: 'CAPACITY', message: /start of / });
  t.equal((await p.repo.get(slug))?.phase, 'stopped');
  room();
  const started = await api('POST', `/tenants/${slug}/actions/start`);
  t.equal(started.statusCode, 202, started.body);
  t.equal((await operationEnd(p.events, started.json().operation.id)).type, 'operation.succeeded');
  t.equal((await p.repo.get(slug))?.phase, 'running');
});

t.test('a sleeping team is not woken while the host is full: visitors get a plain page, the team stays asleep; with room a visit wakes it', async (t) => {
  const slept = await api('POST', `/tenants/${slug}/actions/sleep?stop=true`);
  t.equal(slept.statusCode, 202, slept.body);
  t.equal((await operationEnd(p.events, slept.json().operation.id)).type, 'operation.succeeded');
  t.equal((await p.repo.get(slug))?.phase, 'sleeping');
  full();
  t.teardown(room);
  const before = (await refusals(slug)).length;
  const page = await throughNginx(tp, slug, 'GET', '/', { accept: 'text/html' });
  t.equal(page.status, 503);
  t.equal(page.headers['retry-after'], '60');
  t.match(page.body.toString(), /cannot be woken up right now.*full/s, 'the visitor is told, in words');
  t.notMatch(page.body.toString(), /GB|MB|reserve|memory/, 'and sees none of the host\'s figures');
  const api503 = await api('POST', `/tenants/${slug}/actions/wake`);
  t.equal(api503.statusCode, 503, 'the API refuses the wake too');
  t.match(api503.json().error, { code: 'CAPACITY', message: /wake of / });
  t.equal((await p.repo.get(slug))?.phase, 'sleeping', 'still asleep, not failed');
  t.same(await docker('ps', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'nothing started');
  t.equal((await refusals(slug)).length, before + 1, 'one event for operators, not one per knock (once a minute per team and kind of work)');

  room();
  const woken = await throughNginx(tp, slug, 'GET', '/healthz');
  t.equal(woken.status, 200, 'with room, a visit wakes it and is answered');
  await p.operations.settled();
  t.equal((await p.repo.get(slug))?.phase, 'running');
});

t.test("an upgrade's second app is refused while the host is full: the team keeps its version and serves", async (t) => {
  await tagVersion(next);
  const from = (await p.repo.get(slug))!.appVersion;
  full();
  t.teardown(room);
  const swap = await p.upgrades.swap.start(slug, next);
  const end = await swap.done;
  t.equal(end.type, 'operation.failed');
  t.equal(end.code, 'CAPACITY', 'the operation says why');
  const after = (await p.repo.get(slug))!;
  t.equal(after.appVersion, from, 'the version it had');
  t.equal(after.phase, 'running');
  t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200, 'and it serves');
  t.equal((await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.Names}}')).split('\n').filter(Boolean).length, 3, 'no second app was made');
  t.match((await refusals(slug)).at(-1)?.data, { work: 'upgrade', needBytes: 256 * 1024 * 1024 }, 'the room of one app, for operators');

  room();
  const again = await p.upgrades.swap.start(slug, next);
  t.equal((await again.done).type, 'operation.succeeded', 'with room it upgrades');
  await until(async () => (await p.repo.get(slug))?.appVersion === next, 10_000, 'the new version recorded');
});

t.test('GET /capacity and berth capacity: the headroom now, what each plan takes, and how many more fit by admission\'s rule', async (t) => {
  t.equal((await p.app.inject({ method: 'GET', url: '/api/v1/capacity' })).statusCode, 401, 'no token, no figures');
  const res = await api('GET', '/capacity');
  t.equal(res.statusCode, 200, res.body);
  const view = res.json() as CapacityView;
  t.ok(view.host.cpus >= 1 && view.host.memory.totalBytes > 0, 'the host');
  t.ok(view.host.memory.availableBytes! > 0 && view.host.memory.availableBytes! <= view.host.memory.totalBytes, 'MemAvailable, below the total');
  t.equal(view.host.disk.path, tp.config.capacity.diskPath);
  t.ok(view.host.disk.freeBytes! > 0, 'free disk');
  t.same(view.reserve, { memoryBytes: reserve, diskBytes: tp.config.capacity.diskReserveBytes });
  const starter = view.plans.find((x) => x.template === 'tenant' && x.plan === 'starter')!;
  t.match(starter, { memoryBytes: 1024 ** 3, diskBytes: 1024 ** 3, cpus: 1.5 });
  t.ok(starter.teams.up >= 1, 'this test\'s team is up');
  t.equal(starter.reservedMemoryBytes, (starter.teams.up + starter.teams.frozen) * 1024 ** 3);
  const byMemory = Math.floor((view.host.memory.availableBytes! - view.starting.memoryBytes - reserve) / starter.memoryBytes);
  const byDisk = Math.floor((view.host.disk.freeBytes! - view.starting.diskBytes - view.reserve.diskBytes) / starter.diskBytes);
  // Read a moment apart from the figures above: the host's memory moves with the other tests.
  t.ok(Math.abs(starter.fitsNow! - Math.max(0, Math.min(byMemory, byDisk))) <= 2, `fitsNow ${starter.fitsNow} ≈ min(${byMemory}, ${byDisk})`);
  full();
  t.teardown(room);
  t.equal((await api('GET', '/capacity')).json().plans.find((x: { plan: string }) => x.plan === 'starter').fitsNow, 0, 'a full host: none');
  room();

  await p.app.listen({ host: '127.0.0.1', port: 0 });
  const address = p.app.server.address() as { port: number };
  const env = { BERTH_URL: `http://127.0.0.1:${address.port}`, BERTH_TOKEN: tp.token };
  const table = await berth(['capacity'], env);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^CPUS +LOAD +MEMORY FREE +MEMORY TOTAL +DISK FREE/m, 'the host, as a table');
  t.match(table.stdout, /^tenant +starter +1\.0 GB +1\.0 GB +1\.5 +\d+ +\d+ +\d+ +[\d.]+ (GB|MB) +\d+$/m, 'a row per plan');
  const asJson = await berth(['capacity', '--json'], env);
  t.equal(asJson.code, 0, asJson.stderr);
  t.ok((JSON.parse(asJson.stdout) as CapacityView).plans.some((x) => x.plan === 'team'), '--json: the API\'s answer');
});

t.test('config: the reserves are read from defaults.env', async (t) => {
  t.equal(config.capacity.memoryReserveBytes, 2048 * 1024 * 1024);
  t.equal(config.capacity.diskReserveBytes, 2048 * 1024 * 1024);
  t.equal(config.capacity.diskPath, '/var/lib/docker');
});
