// Upgrade jobs include sleeping teams (issue 13 item 6), on the real engine and
// a real nginx: a job over one awake, one frozen and one sleeping team
// upgrades all three, each ending in its former phase on the new version, and
// the job's entries and events say what happened to the sleepers; a visitor
// during the upgrade keeps a sleeper awake; a sleeper that will not wake fails
// its entry with WAKE_FAILED (the job's failure budget applies) and is left
// failed with the reason.
import t from 'tap';
import type { ContainerRuntime, ContainerSpec } from '../../src/runtime/types.js';
import { appImage, removeVersions, tagVersion, testVersion } from '../helpers/app-versions.js';
import { berth, listen } from '../helpers/berth-cli.js';
import { config, docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const [awake, frozen, sleeping, visited, broken] = ['awk', 'frz', 'slp', 'vis', 'brk'].map((tag) => testSlug(`s${tag}`)) as [string, string, string, string, string];

// Faults for one slug each: the visited team's new app container waits at a
// gate (so a request surely comes during its upgrade); the broken team's app
// will not start (so its wake fails).
let gate: { reached: () => void; open: Promise<void> } | undefined;
let failStart: Error | undefined;
const wrapRuntime = (inner: ContainerRuntime): ContainerRuntime =>
  new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'createContainer') {
        return async (spec: ContainerSpec) => {
          if (gate && spec.name.includes(visited) && /[-.]app[-.]b$/.test(spec.name)) {
            gate.reached();
            await gate.open;
          }
          return target.createContainer(spec);
        };
      }
      if (prop === 'startContainer') {
        return async (name: string) => {
          if (failStart && name.includes(broken) && /[-.]app$/.test(name)) throw failStart;
          return target.startContainer(name);
        };
      }
      return Reflect.get(target, prop, receiver);
    }
  });

// The sleep policy makes no passes of its own: the test puts teams to sleep.
const tp = await startTestPlatform('upsl', { sleep: { intervalMs: 3_600_000, minAvailableBytes: 0, pressureBatch: 1 }, wake: { ...config.wake, holdMs: 15_000 } }, undefined, { wrapRuntime });
const V2 = await tagVersion(testVersion('sl'));
t.teardown(async () => {
  await tp.close();
  await removeVersions(V2);
});
const p = tp.platform;
await p.startLoops();

interface JobTenant { slug: string; state: string; step?: string; operation?: string; error?: { code: string; message: string }; sleeper?: { from: string; wake?: string; after?: string } }
interface Job { id: string; state: string; reason?: string; counts: Record<string, number>; tenants: JobTenant[] }

async function call(method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await p.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${tp.token}` }, payload });
  return { status: res.statusCode, body: res.json() };
}
const jobEnd = (id: string) => until(async () => {
  const job = (await call('GET', `/upgrades/${id}`)).body as Job;
  return job.state === 'running' ? undefined : job;
}, 300_000, `job ${id} to end`, 250);
const states = async (slug: string) => (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.State}}')).split('\n').filter(Boolean).sort();
const appImageOf = async (slug: string) => (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--filter', 'label=berth.service=app', '--format', '{{.Image}}')).split('\n').filter(Boolean);
const wakeCount = async (from: string) => {
  const text = (await p.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`berth_wake_duration_seconds_count{from="${from}",outcome="ok"} `));
  return line ? Number(line.split(' ')[1]) : 0;
};
const sleepNow = async (slug: string, stop: boolean) => {
  await p.tenants.sleep(slug, { stop });
  await p.operations.settled();
  return (await p.repo.get(slug))?.phase;
};

t.before(async () => {
  const made = await Promise.all([awake, frozen, sleeping, visited, broken].map((slug) => p.tenants.create({ slug })));
  for (const m of made) t.equal((await operationEnd(p.events, m.operation.id, 240_000)).type, 'operation.succeeded');
});

t.test('one awake, one frozen and one sleeping team: all three upgraded, each back in its former phase', async (t) => {
  t.equal(await sleepNow(frozen, false), 'frozen');
  t.equal(await sleepNow(sleeping, true), 'sleeping');
  const preview = (await call('POST', '/upgrades/preview', { toVersion: V2, tenants: [awake, frozen, sleeping] })).body as { tenants: { slug: string; phase: string }[]; skipped: unknown[] };
  t.same(preview.tenants.map((e) => [e.slug, e.phase]).sort(), [[awake, 'running'], [frozen, 'frozen'], [sleeping, 'sleeping']].sort(), 'the sleepers are in the job, not skipped');
  t.same(preview.skipped, []);
  const wakesFromFrozen = await wakeCount('frozen');
  const wakesFromSleeping = await wakeCount('sleeping');

  const created = await call('POST', '/upgrades', { toVersion: V2, tenants: [awake, frozen, sleeping], canary: 0, concurrency: 3 });
  t.equal(created.status, 202, JSON.stringify(created.body));
  const job = await jobEnd((created.body as Job).id);
  t.equal(job.state, 'succeeded', job.reason ?? '');
  t.same(job.counts, { pending: 0, upgrading: 0, succeeded: 3, failed: 0, skipped: 0 });

  const entry = (slug: string) => job.tenants.find((e) => e.slug === slug)!;
  t.equal(entry(awake).sleeper, undefined, 'the awake team was no sleeper');
  t.match(entry(frozen).sleeper, { from: 'frozen', wake: String, after: 'frozen' }, 'the frozen team: woken by its own wake operation, frozen again');
  t.match(entry(sleeping).sleeper, { from: 'sleeping', wake: String, after: 'sleeping' }, 'the sleeping team: woken, stopped again');

  const expected: [string, string, string[]][] = [[awake, 'running', ['running', 'running', 'running']], [frozen, 'frozen', ['paused', 'paused', 'paused']], [sleeping, 'sleeping', []]];
  for (const [slug, phase, containers] of expected) {
    const doc = await p.repo.get(slug);
    t.match(doc, { phase, appVersion: V2 }, `${slug}: ${phase} on ${V2}`);
    t.equal(doc?.operation, undefined, 'no operation left');
    t.same(await states(slug), containers, `${slug}: its containers ${containers[0] ?? 'let go (a sleeping team keeps only its volumes)'}`);
    if (containers.length > 0) t.same(await appImageOf(slug), [appImage(V2)], `${slug}: one app container, of the new version`);
  }
  t.ok(await p.routes.isCurrent(frozen, p.stacks.sleepRoute()), 'the frozen team\'s route hands requests to the wake listener again');
  t.ok(await p.routes.isCurrent(sleeping, p.stacks.sleepRoute()), 'so does the sleeping team\'s');
  t.equal(await wakeCount('frozen') - wakesFromFrozen, 1, 'the upgrade\'s wake from frozen is in the wake histogram');
  t.equal(await wakeCount('sleeping') - wakesFromSleeping, 1, 'so is its wake from sleeping');

  // The job's events tell the sleepers' story, in order.
  const events = await p.events.history({ operation: job.id }, 1000);
  for (const [slug, from] of [[frozen, 'frozen'], [sleeping, 'sleeping']] as const) {
    const mine = events.filter((e) => e.type === 'upgrade.tenant' && e.tenant === slug).map((e) => e.data as { state: string; step?: string; sleeper?: { from: string; after?: string } });
    const steps = mine.map((d) => d.step);
    const at = (step: string) => steps.indexOf(step);
    t.ok(at(`waking (${from})`) >= 0 && at(`waking (${from})`) < at('drain') && at('drain') < at(`back to ${from}`), `${slug}: waking, the swap, then back to ${from} (${steps.join(' → ')})`);
    t.match(mine.at(-1), { state: 'succeeded', sleeper: { from, after: from } }, `${slug}: the last event says it was put back`);
    t.ok(mine.filter((d) => d.step === `back to ${from}`).every((d) => d.state === 'upgrading'), 'not shown done while it is put back');
  }

  // The CLI's job table says it too (scripts/berth runs orchestrator/dist).
  const status = await berth(['upgrade', 'status', job.id], { BERTH_URL: await listen(tp), BERTH_TOKEN: tp.token });
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, new RegExp(`${frozen} .*succeeded +done \\(was frozen; now frozen\\)`), 'berth upgrade status: the frozen team was put back');
  t.match(status.stdout, new RegExp(`${sleeping} .*succeeded +done \\(was sleeping; now sleeping\\)`), 'and the sleeping one');

  // Asleep on the new version: its next visitor wakes it and gets that version
  // (the sleeping team's containers are made again, from the new version's spec).
  for (const slug of [frozen, sleeping]) {
    const version = await throughNginx(tp, slug, 'GET', '/version', {}, undefined, 60_000);
    t.equal(version.status, 200);
    t.equal((JSON.parse(version.body.toString()) as { version: string }).version, V2, `${slug}: the woken team serves the new version`);
    t.same(await appImageOf(slug), [appImage(V2)], `${slug}: one app container, of the new version`);
  }
});

t.test('a visitor during a sleeper\'s upgrade keeps it awake', async (t) => {
  t.equal(await sleepNow(visited, false), 'frozen');
  let reached!: () => void;
  const atGate = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  gate = { reached, open: new Promise<void>((resolve) => (open = resolve)) };
  t.teardown(() => {
    open();
    gate = undefined;
  });
  const created = await call('POST', '/upgrades', { toVersion: V2, tenants: [visited], canary: 0 });
  t.equal(created.status, 202, JSON.stringify(created.body));
  await atGate; // woken, its new container about to be made
  const answer = await throughNginx(tp, visited, 'GET', '/healthz');
  t.equal(answer.status, 200, 'the visitor is served by the woken team during its upgrade');
  open();
  const job = await jobEnd((created.body as Job).id);
  t.equal(job.state, 'succeeded', job.reason ?? '');
  t.match(job.tenants[0], { state: 'succeeded', sleeper: { from: 'frozen', after: /^awake: it was used during the upgrade/ } });
  t.match(await p.repo.get(visited), { phase: 'running', appVersion: V2 }, 'left awake, on the new version');
  t.same(await states(visited), ['running', 'running', 'running']);
});

t.test('a sleeper that will not wake: the entry fails with WAKE_FAILED, the job\'s budget applies, the team is left failed with the reason', async (t) => {
  t.equal(await sleepNow(broken, true), 'sleeping');
  failStart = new Error('injected: the app would not start');
  t.teardown(() => (failStart = undefined));
  const created = await call('POST', '/upgrades', { toVersion: V2, tenants: [broken], canary: 0, maxFailures: 0 });
  t.equal(created.status, 202, JSON.stringify(created.body));
  const job = await jobEnd((created.body as Job).id);
  failStart = undefined;
  t.equal(job.state, 'halted', 'one failure over a budget of 0 halts the job');
  t.match(job.reason, /1 tenants failed/);
  t.match(job.tenants[0], { state: 'failed', error: { code: 'WAKE_FAILED', message: /not woken for the upgrade: .*injected: the app would not start/ }, sleeper: { from: 'sleeping' } });
  t.equal(job.tenants[0]!.sleeper?.after, undefined, 'nothing to put back');
  const doc = await p.repo.get(broken);
  t.match(doc, { phase: 'failed', lastError: { message: /injected: the app would not start/ } }, 'left failed with the reason');
  t.not(doc?.appVersion, V2, 'on its old version');
  t.same((await states(broken)).filter((s) => s === 'running' || s === 'paused'), [], 'nothing left half awake');
  const events = await p.events.history({ operation: job.id }, 200);
  t.ok(events.some((e) => e.type === 'upgrade.tenant' && e.tenant === broken && (e.data as { code?: string }).code === 'WAKE_FAILED'), 'the job\'s event names WAKE_FAILED');
});
