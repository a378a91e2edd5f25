// Bulk upgrades through the DevOps API on the real engine and a real nginx:
// six tenants, a canary, approval, rolling at concurrency 2 while a request
// stream runs through nginx; a release whose /healthz fails stops after the
// canary; rollbacks of one tenant and of a whole job; pause, resume, cancel;
// and the bad input that starts nothing.
import t, { type Test } from 'tap';
import { httpGet } from '../../src/runtime/http-get.js';
import { appImage, brokenVersion, removeVersions, tagVersion, testVersion } from '../helpers/app-versions.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { startStream } from '../helpers/request-stream.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('upg');
const V1 = tp.config.defaultAppVersion;
const V2 = await tagVersion(testVersion('up'));
const BAD = await brokenVersion(testVersion('bad'));
t.teardown(async () => {
  await tp.close();
  await removeVersions(V2, BAD);
});
const { app, events } = tp.platform;
const auth = { authorization: `Bearer ${tp.token}` };
const slugs = Array.from({ length: 6 }, (_, i) => testSlug(`u${i}`)).sort();
const host = (slug: string) => `${slug}.${tp.config.baseDomain}`;
const viaNginx = (slug: string, path: string) => httpGet(`http://127.0.0.1:${tp.nginx.port}${path}`, 10_000, { host: host(slug) });

interface Job {
  id: string;
  state: string;
  reason?: string;
  counts: Record<string, number>;
  tenants: { slug: string; from: string; to: string; state: string; canary: boolean; step?: string; error?: { code: string; message: string } }[];
}

async function call(method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await app.inject({ method, url: `/api/v1${url}`, headers: auth, payload });
  return { status: res.statusCode, body: res.json() };
}

async function jobUntil(id: string, done: (job: Job) => boolean, what: string, timeoutMs = 180_000): Promise<Job> {
  return until(async () => {
    const job = (await call('GET', `/upgrades/${id}`)).body as Job;
    return done(job) ? job : undefined;
  }, timeoutMs, `job ${id} to be ${what}`, 250);
}

/** What nginx serves for each tenant: its /version and whether /healthz is 200. */
async function served(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const slug of slugs) {
    const [version, health] = await Promise.all([viaNginx(slug, '/version'), viaNginx(slug, '/healthz')]);
    out[slug] = `${version.status === 200 ? (JSON.parse(version.body) as { version: string }).version : `HTTP ${version.status}`}${health.status === 200 ? '' : ` unhealthy (${health.status})`}`;
  }
  return out;
}
const all = (value: string) => Object.fromEntries(slugs.map((s) => [s, value]));

/** The tenant's app containers: exactly the current slot's, published at the registry's port. */
async function assertOneApp(t: Test, slug: string, version: string): Promise<void> {
  const tenant = (await call('GET', `/tenants/${slug}`)).body as { appVersion: string; phase: string; port: number; services: Record<string, string> };
  t.match(tenant, { appVersion: version, phase: 'running', services: { app: 'running', db: 'running', storage: 'running' } }, `${slug} runs ${version}`);
  const apps = (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--filter', 'label=berth.service=app', '--format', '{{.Names}} {{.Image}} {{.State}}')).split('\n');
  t.equal(apps.length, 1, `${slug}: one app container, the old one removed (${apps.join('; ')})`);
  t.match(apps[0], new RegExp(` ${appImage(version).replace(/[.]/g, '\\.')} running$`));
  t.equal(await docker('port', apps[0]!.split(' ')[0]!, '3000'), `127.0.0.1:${tenant.port}`, 'published at the port the registry records');
}

t.before(async () => {
  // The busier plan: the request streams below send hundreds of requests a
  // second, over the starter plan's rate at the edge (templates/tenant.yaml).
  const ops = await Promise.all(slugs.map(async (slug) => (await call('POST', '/tenants', { slug, plan: 'team' })).body.operation.id as string));
  for (const op of ops) t.equal((await operationEnd(tp.platform.events, op, 240_000)).type, 'operation.succeeded');
});

let first: Job;

t.test('bad input is refused with a code and starts nothing', async (t) => {
  const refused = async (payload: object, status: number, code: string, message?: RegExp) => {
    const res = await call('POST', '/upgrades', payload);
    t.equal(res.status, status, `${JSON.stringify(payload)} → ${status}`);
    t.equal(res.body.error?.code, code);
    if (message) t.match(res.body.error?.message, message);
  };
  await refused({ toVersion: '9.9.9-nope', all: true }, 400, 'VERSION_UNKNOWN', /"9\.9\.9-nope".*build-images --only app --app-version 9\.9\.9-nope/);
  await refused({ toVersion: '../etc', all: true }, 400, 'VALIDATION_FAILED');
  await refused({ toVersion: V2 }, 400, 'VALIDATION_FAILED', /exactly one of/);
  await refused({ toVersion: V2, all: true, tenants: [slugs[0]] }, 400, 'VALIDATION_FAILED', /exactly one of/);
  await refused({ toVersion: V2, filter: { slugPrefix: 'zz-nobody' } }, 400, 'UPGRADE_SELECTION_EMPTY', /no tenant matches/);
  await refused({ toVersion: V1, all: true }, 400, 'UPGRADE_SELECTION_EMPTY', /already runs/);
  await refused({ toVersion: V2, tenants: [] }, 400, 'VALIDATION_FAILED', /body\.tenants must NOT have fewer than 1 items/);
  await refused({ toVersion: V2, tenants: ['tnobody-here'] }, 404, 'TENANT_NOT_FOUND', /tnobody-here/);
  await refused({ toVersion: V2, all: true, concurrency: 0 }, 400, 'VALIDATION_FAILED');
  t.equal((await call('GET', '/upgrades/no-such-job')).body.error?.code, 'UPGRADE_NOT_FOUND');
  t.same((await call('GET', '/upgrades')).body.jobs, [], 'no job was made');

  const versions = (await call('GET', '/versions')).body as { repository: string; versions: { version: string; tenants: number; default: boolean }[] };
  t.equal(versions.repository, tp.config.images.appRepo);
  t.match(versions.versions.find((v) => v.version === V1), { tenants: 6, default: true }, 'the version every tenant runs');
  t.match(versions.versions.find((v) => v.version === V2), { tenants: 0, default: false }, 'a new tag is a version');
  const preview = (await call('POST', '/upgrades/preview', { toVersion: V2, filter: { version: V1 }, canary: 2 })).body;
  t.same(preview.tenants.map((p: { slug: string; canary: boolean }) => [p.slug, p.canary]), slugs.map((s, i) => [s, i < 2]), 'the preview names every tenant, canaries first');
});

t.test('six tenants: canary 1, approval, then concurrency 2; a request stream sees no failure', async (t) => {
  const watched = slugs[3]!;
  const stream = startStream({ port: tp.nginx.port, host: host(watched), lanes: 4, pauseMs: 5 });
  // Starting or switching: from its turn until nginx serves its new container (the old one then drains while the next starts).
  const switching = new Set<string>();
  let most = 0;
  const off = events.subscribe((e) => {
    if (e.type !== 'upgrade.tenant' || !e.tenant) return;
    if (e.data?.state === 'upgrading' && e.data.step === 'queued') most = Math.max(most, switching.add(e.tenant).size);
    if (e.data?.step === 'drain' || e.data?.state !== 'upgrading') switching.delete(e.tenant);
  });
  const created = await call('POST', '/upgrades', { toVersion: V2, all: true, canary: 1, concurrency: 2 });
  t.equal(created.status, 202);
  const id = (created.body as Job).id;
  const waiting = await jobUntil(id, (j) => j.state === 'awaiting-approval', 'awaiting approval');
  t.match(waiting.tenants[0], { slug: slugs[0], canary: true, state: 'succeeded', from: V1, to: V2 });
  t.same(waiting.tenants.slice(1).map((e) => e.state), ['pending', 'pending', 'pending', 'pending', 'pending'], 'the rest waits for approval');
  t.equal((await served())[slugs[0]!], V2, 'the canary serves the new version through nginx');

  const conflict = await call('POST', '/upgrades', { toVersion: V2, tenants: [slugs[2]] });
  t.equal(conflict.status, 409, 'another job for a tenant this one holds');
  t.equal(conflict.body.error?.code, 'UPGRADE_CONFLICT');
  t.match(conflict.body.error?.message, new RegExp(id));

  const approved = await call('POST', `/upgrades/${id}/actions/approve`);
  t.equal(approved.status, 200);
  first = await jobUntil(id, (j) => j.state !== 'running', 'done');
  off();
  const report = await stream.stop();
  t.equal(first.state, 'succeeded', first.reason ?? '');
  t.same(first.counts, { pending: 0, upgrading: 0, succeeded: 6, failed: 0, skipped: 0 });
  t.equal(most, 2, 'at most two tenants starting or switching at once after the canary');
  t.equal(report.failed, 0, `no request failed during the upgrade (${report.total} requests, none retried): ${report.failures.join(' | ')}`);
  t.equal(report.resets, 0, 'no kept-alive connection was closed under a request');
  t.equal(report.retried, 0, 'the stream retried nothing');
  t.ok(report.total > 50, `the stream ran (${report.total} requests in ${report.seconds.toFixed(1)} s)`);
  t.ok(report.versions[V1]! > 0 && report.versions[V2]! > 0, `answers came from both versions: ${JSON.stringify(report.versions)}`);

  t.same(await served(), all(V2), 'every tenant serves the new version through nginx, healthy');
  for (const slug of slugs) await assertOneApp(t, slug, V2);
  const steps = (await call('GET', `/tenants/${watched}/events?limit=200`)).body.events
    .filter((e: { type: string; data?: { kind?: string } }) => e.type === 'operation.step' && e.data?.kind === 'upgrade')
    .map((e: { data: { step: string } }) => e.data.step);
  t.same(steps, ['prepare', `start:${V2}`, 'healthy', 'route', 'drain', 'remove-old'], 'each step of the swap is an event');
});

t.test('a version whose /healthz fails stops after the canary; every tenant keeps the old version, healthy', async (t) => {
  const stream = startStream({ port: tp.nginx.port, host: host(slugs[0]!), lanes: 2, pauseMs: 5 });
  const created = await call('POST', '/upgrades', { toVersion: BAD, all: true, canary: 1, concurrency: 2, autoApprove: true, healthTimeoutSeconds: 8 });
  t.equal(created.status, 202);
  const job = await jobUntil(created.body.id, (j) => j.state !== 'running', 'done');
  const report = await stream.stop();
  t.equal(job.state, 'halted');
  t.match(job.reason, /canary failed/);
  t.same(job.counts, { pending: 0, upgrading: 0, succeeded: 0, failed: 1, skipped: 5 });
  t.match(job.tenants[0], { slug: slugs[0], state: 'failed', error: { code: 'HEALTH_TIMEOUT' } });
  t.same(await served(), all(V2), 'all still serve the version they had, healthy');
  await assertOneApp(t, slugs[0]!, V2);
  t.equal(report.failed, 0, `the canary tenant answered throughout (${report.total} requests, none retried): ${report.failures.join(' | ')}`);
  t.equal(report.resets, 0, 'no kept-alive connection was closed under a request');
});

t.test('rollback: one tenant, then the whole job, each back to the version it had', async (t) => {
  const one = await call('POST', `/upgrades/${first.id}/rollback`, { tenants: [slugs[5]] });
  t.equal(one.status, 202);
  t.match(one.body, { kind: 'rollback', rollbackOf: first.id, tenants: [{ slug: slugs[5], from: V2, to: V1 }] });
  t.equal((await jobUntil(one.body.id, (j) => j.state !== 'running', 'done')).state, 'succeeded');
  t.same(await served(), { ...all(V2), [slugs[5]!]: V1 }, 'only that tenant went back');

  const rest = await call('POST', `/upgrades/${first.id}/rollback`, {});
  t.equal(rest.status, 202);
  t.equal(rest.body.tenants.length, 5, 'the one already back is left out');
  t.equal((await jobUntil(rest.body.id, (j) => j.state !== 'running', 'done')).state, 'succeeded');
  t.same(await served(), all(V1), 'every tenant runs its earlier version again');
  for (const slug of slugs) await assertOneApp(t, slug, V1);
});

t.test('pause, resume and cancel', async (t) => {
  const created = await call('POST', '/upgrades', { toVersion: V2, all: true, canary: 0, concurrency: 1 });
  const id = created.body.id as string;
  t.equal((await call('POST', `/upgrades/${id}/actions/pause`)).body.state, 'paused');
  const paused = await jobUntil(id, (j) => j.counts.upgrading === 0, 'quiet');
  t.ok(paused.counts.pending! >= 5, `no tenant starts while paused (${JSON.stringify(paused.counts)})`);
  t.equal((await call('POST', `/upgrades/${id}/actions/approve`)).body.error?.code, 'UPGRADE_CONFLICT', 'nothing to approve');
  t.equal((await call('POST', `/upgrades/${id}/actions/resume`)).body.state, 'running');
  await jobUntil(id, (j) => j.counts.succeeded! > paused.counts.succeeded!, 'one more upgraded');
  t.equal((await call('POST', `/upgrades/${id}/actions/cancel`)).body.state, 'cancelled');
  const cancelled = await jobUntil(id, (j) => j.counts.upgrading === 0 && j.counts.pending === 0, 'settled');
  t.ok(cancelled.counts.skipped! >= 1, `what had not started is skipped (${JSON.stringify(cancelled.counts)})`);
  t.equal((await call('POST', `/upgrades/${id}/actions/resume`)).status, 409, 'a cancelled job stays cancelled');
  const expected = Object.fromEntries(cancelled.tenants.map((e) => [e.slug, e.state === 'succeeded' ? V2 : V1]));
  t.same(await served(), expected, 'upgraded tenants serve the new version, the others the old one');
});
