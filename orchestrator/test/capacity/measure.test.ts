// `berth capacity measure` on a real platform (real engine, nginx, stacks, the
// orchestrator's loops on): a short measurement through the CLI makes its load
// teams, loads them through nginx, samples the host and each team, predicts,
// removes the teams and keeps the report (`berth capacity report`). Bad
// requests are refused before anything is made; a second measurement waits
// for the first; a cancel ends the load and removes the teams; a create the
// host has no room for fails the measurement with CAPACITY and nothing left;
// a measurement a dead process left is marked interrupted and its teams removed.
import t from 'tap';
import { runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { berth } from '../helpers/berth-cli.js';
import { operationEnd, until } from '../helpers/wait.js';
import type { Measurement } from '../../src/contract/index.js';

const tp = await startTestPlatform('capm');
t.teardown(() => tp.close());
const p = tp.platform;
await p.startLoops();
await p.app.listen({ host: '127.0.0.1', port: 0 });
const env = { BERTH_URL: `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`, BERTH_TOKEN: tp.token };
const api = (method: string, path: string, body?: unknown, token = tp.token) =>
  p.app.inject({ method: method as 'GET', url: `/api/v1${path}`, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
/** Teams of this platform still holding a container, or still in the registry. */
const leftovers = async () => {
  const containers = await runtime.listContainers({ 'berth.platform': tp.config.platformId });
  return { containers: containers.length, tenants: (await p.repo.list()).filter((x) => x._id.startsWith('load-')).length };
};
const ended = (id: string) => until(async () => {
  const m = await p.measurements.get(id);
  return m.state === 'running' ? undefined : m;
}, 240_000, `measurement ${id} to end`, 500);

t.test('a short measurement through the CLI: runs, samples, each team, a prediction, the teams removed, the report kept', async (t) => {
  const run = await berth(['capacity', 'measure', '--teams', '2', '--seconds', '15', '--members', '2', '--think-ms', '400', '--wait', '--json'], env, 300_000);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /making load team 1 of 2/, '--wait prints the phases');
  const m = JSON.parse(run.stdout) as Measurement;
  t.equal(m.state, 'succeeded', JSON.stringify(m.error));
  t.equal(m.phase, 'done');
  t.same(m.request, { teams: 2, durationSeconds: 15, members: 2, thinkMs: 400, check: false, p95LimitMs: 500 });
  t.match(m.ranWith, { loops: true, template: 'tenant', plan: 'starter', intervalsMs: { stats: tp.config.stats.intervalMs } }, 'says what it ran with');
  t.match(m.ranWith.loadGenerator, /taken out of the host's CPU/);
  t.ok(m.idle && m.idle.memoryAvailableBytes > 0 && m.idle.cpuBusy >= 0 && m.idle.cpuBusy <= 1, 'the idle host');
  t.equal(m.runs.length, 1);
  const r = m.runs[0]!;
  t.equal(r.teams, 2);
  t.ok(r.requests >= 20, `requests made: ${r.requests}`);
  t.equal(r.errors, 0, JSON.stringify(r.errorReasons));
  t.ok(r.p95Ms !== null && r.p95Ms > 0, 'a p95');
  t.ok(r.host.length >= 12, `host sampled each second: ${r.host.length}`);
  t.ok(r.host.every((s) => s.cpuBusy >= 0 && s.cpuBusy <= 1 && (s.memoryAvailableBytes ?? 0) > 0 && s.diskWriteBytesPerS >= 0), 'samples in range');
  t.ok(r.latencyOverTime.length >= 2 && r.latencyOverTime.reduce((n, b) => n + b.n, 0) === r.requests - 0, 'latency over time holds every request');
  t.equal(r.perTeam.length, 2);
  for (const team of r.perTeam) {
    t.match(team.slug, /^load-[0-9a-f]{6}-[12]$/);
    t.ok(team.samples >= 1 && team.memoryBytes > 10 * 1024 * 1024, `${team.slug}: read ${team.samples} times, ${team.memoryBytes} bytes`);
    t.ok(team.blockWriteBytes >= 0 && team.cpuPercent >= 0);
  }
  t.ok(r.liveLag.n > 0, 'live updates timed');
  t.ok(m.prediction && m.prediction.awake >= 0, 'a prediction');
  t.match(m.prediction!.model.join('\n'), /CPU: the run of 2 teams took .* memory: \d+ MB an awake team/s, 'the model in words');
  t.equal(m.check, null, 'no check asked');
  t.same(m.teams.length, 2);
  t.same(await leftovers(), { containers: 0, tenants: 0 }, 'the load teams are gone, containers and registry');

  const report = await berth(['capacity', 'report', '--json'], env);
  t.equal(report.code, 0, report.stderr);
  t.equal((JSON.parse(report.stdout) as Measurement).id, m.id, 'report: the last one');
  const table = await berth(['capacity', 'report', m.id], env);
  t.match(table.stdout, /^measurement [0-9a-f-]{36}: succeeded/m);
  t.match(table.stdout, /^RUN +TEAMS +REQUESTS +ERRORS +P50 +P95/m);
  t.match(table.stdout, /^prediction:\n {2}awake under this load: \d+ teams/m);
  const listed = await berth(['capacity', 'list'], env);
  t.match(listed.stdout, new RegExp(`^${m.id} +succeeded`, 'm'));
});

t.test('bad requests are refused before anything is made', async (t) => {
  for (const [body, why] of [
    [{ teams: 0, durationSeconds: 30 }, 'no team'],
    [{ teams: 201, durationSeconds: 30 }, 'over the cap'],
    [{ teams: 1e9, durationSeconds: 30 }, 'a billion'],
    [{ teams: '2', durationSeconds: 30 }, 'a string'],
    [{ teams: 2, durationSeconds: 5 }, 'too short'],
    [{ teams: 2, durationSeconds: 3601 }, 'too long'],
    [{ teams: 2, durationSeconds: 30, members: 0 }, 'no member'],
    [{ teams: 2, durationSeconds: 30, thinkMs: 1 }, 'a flood'],
    [{ teams: 2, durationSeconds: 30, slugPrefix: '../x' }, 'an unknown field'],
    [{ teams: 2 }, 'no duration']
  ] as const) {
    const res = await api('POST', '/capacity/measurements', body);
    t.equal(res.statusCode, 400, `${why}: ${res.body}`);
    t.equal(res.json().error.code, 'VALIDATION_FAILED', why);
  }
  const huge = await p.app.inject({ method: 'POST', url: '/api/v1/capacity/measurements', headers: { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' }, payload: `{"teams":1,"durationSeconds":10,"x":"${'a'.repeat(1 << 20)}"}` });
  t.equal(huge.statusCode, 413, 'a 1 MB body');
  const { token: reader } = await p.tokens.create({ name: 'capm-reader', scope: 'read' });
  const refused = await api('POST', '/capacity/measurements', { teams: 1, durationSeconds: 10 }, reader);
  t.equal(refused.statusCode, 403, 'a read token may not start one');
  t.equal((await api('GET', '/capacity/measurements', undefined, reader)).statusCode, 200, 'but may read them');
  t.equal((await api('GET', `/capacity/measurements/${'x'.repeat(64)}`)).json().error.code, 'MEASUREMENT_NOT_FOUND');
  const cli = await berth(['capacity', 'measure', '--teams', '2'], env);
  t.equal(cli.code, 2, 'the CLI: no duration is a usage error');
  t.match(cli.stderr, /give the duration once: --minutes M or --seconds S/);
  t.same(await leftovers(), { containers: 0, tenants: 0 }, 'nothing made');
});

t.test('one at a time; a cancel ends the load and removes the teams', async (t) => {
  const started = await api('POST', '/capacity/measurements', { teams: 1, durationSeconds: 600, members: 1 });
  t.equal(started.statusCode, 202, started.body);
  const id = (started.json() as Measurement).id;
  const second = await api('POST', '/capacity/measurements', { teams: 1, durationSeconds: 10 });
  t.equal(second.statusCode, 409);
  t.match(second.json().error, { code: 'MEASUREMENT_RUNNING', message: /wait for it to end or cancel it/ });
  await until(async () => ((await p.measurements.get(id)).phase.includes('under load') ? true : undefined), 120_000, 'the load to run');
  const t0 = Date.now();
  const cancelled = await api('POST', `/capacity/measurements/${id}/cancel`);
  t.equal(cancelled.statusCode, 200, cancelled.body);
  t.match(cancelled.json() as Measurement, { state: 'running', phase: /^cancelling/ }, 'the answer comes at once');
  const m = await ended(id);
  t.equal(m.state, 'cancelled');
  t.equal(m.error, null);
  t.ok(Date.now() - t0 < 120_000, 'the load stopped without running its 600 s');
  t.same(await leftovers(), { containers: 0, tenants: 0 }, 'its team is gone');
});

t.test('a create the host has no room for fails the measurement with CAPACITY, nothing left', async (t) => {
  const reserve = tp.config.capacity.memoryReserveBytes;
  tp.config.capacity.memoryReserveBytes = 2 ** 50;
  t.teardown(() => void (tp.config.capacity.memoryReserveBytes = reserve));
  const started = await api('POST', '/capacity/measurements', { teams: 2, durationSeconds: 10 });
  t.equal(started.statusCode, 202, started.body);
  const m = await ended((started.json() as Measurement).id);
  t.equal(m.state, 'failed');
  t.match(m.error, { code: 'CAPACITY', message: /no room for another starter team/ });
  t.same(await leftovers(), { containers: 0, tenants: 0 });
});

t.test('a measurement a dead process left: marked interrupted, its load teams removed', async (t) => {
  const slug = testSlug('capr');
  const made = await p.tenants.create({ slug });
  t.equal((await operationEnd(p.events, made.operation.id)).type, 'operation.succeeded');
  const other = testSlug('capk');
  const kept = await p.tenants.create({ slug: other });
  t.equal((await operationEnd(p.events, kept.operation.id)).type, 'operation.succeeded');
  t.teardown(async () => void (await operationEnd(p.events, (await p.tenants.delete(other, { deleteData: true, confirm: other })).operation.id)));
  const orphan = { ...(await p.measurements.get((await p.measurements.list(1))[0]!.id)), id: '00000000-0000-4000-8000-000000000001', state: 'running' as const, phase: 'a dead process was here', endedAt: null, error: null, teams: [slug, testSlug('caprnever')] };
  const { id: _id, ...stored } = orphan;
  await p.db.db.collection('capacity_measurements').insertOne({ _id: _id as never, ...stored });
  await p.measurements.recover();
  const m = await p.measurements.get(orphan.id);
  t.equal(m.state, 'interrupted');
  t.match(m.phase, /interrupted by a restart/);
  t.equal(await p.repo.get(slug), null, 'its team is deleted');
  t.ok(await p.repo.get(other), 'a team it did not name is kept');
});
