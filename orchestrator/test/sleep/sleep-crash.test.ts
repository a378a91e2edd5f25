// The orchestrator killed (SIGKILL) in the middle of a freeze, a stop for
// sleep and a wake: after a restart the team ends fully asleep or fully
// awake, never half (two of three containers paused), and a request held
// while the process died is answered cleanly (nginx's asks are bounded: a 503
// at once, never a hang). The orchestrator runs as a real process. A freeze
// and a stop take a few milliseconds, too short to kill inside reliably: their
// cases leave exactly what a process killed at that step leaves (the
// operation in the registry under a dead owner, some containers done and
// some not), then start the real process on it. The wake is killed for real.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { names } from '../../src/names.js';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';
import { docker, testSlug } from '../helpers/docker.js';
import { freePort } from '../helpers/nginx.js';
import { kill, startOrchestrator } from '../helpers/orchestrator-process.js';
import { platformEnv, startTestPlatform, storedTenant } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('slpcrash');
const apiPort = await freePort();
const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const child of children) child.kill('SIGKILL');
  await tp.close();
});
const env = platformEnv(tp.config, { BERTH_API_PORT: String(apiPort), BERTH_RECONCILE_INTERVAL_MS: '60000', BERTH_SLEEP_INTERVAL_MS: '3600000' });
const slug = testSlug('slpk');
const container = (service: string) => names.container(slug, service);
const states = async () => Object.fromEntries((await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.Label "berth.service"}} {{.State}}'))
  .split('\n').filter(Boolean).map((l) => l.split(' ')));
const tenants = tp.platform.db.db.collection<TenantDoc>('tenants');
/** What a process killed at `step` of operation `kind` leaves in the registry. */
const leaveOperation = (kind: 'freeze' | 'sleep' | 'wake', step: string) =>
  tenants.updateOne({ _id: slug }, { $set: { operation: { id: randomUUID(), kind, owner: `dead-${randomUUID()}`, startedAt: new Date(), step } } });
const settled = () => until(async () => {
  const doc = await storedTenant(tp, slug);
  return doc && !doc.operation ? doc : undefined;
}, 120_000, 'the resumed operation to end');

const created = await tp.platform.tenants.create({ slug });
t.equal((await operationEnd(tp.platform.events, created.operation.id)).type, 'operation.succeeded', 'created');

t.test('killed mid-freeze (two of three containers paused): the restarted orchestrator finishes the freeze', async (t) => {
  await leaveOperation('freeze', 'pausing');
  await docker('pause', container('db'));
  await docker('pause', container('storage'));
  const child = await startOrchestrator(env, apiPort, children);
  const doc = await settled();
  t.equal(doc.phase, 'frozen', `ended frozen (${doc.lastError?.message ?? 'no error'})`);
  t.same(await states(), { app: 'paused', db: 'paused', storage: 'paused' }, 'all three paused, none half');
  const answer = await throughNginx(tp, slug, 'GET', '/healthz');
  t.equal(answer.status, 200, 'and the next request wakes it');
  t.equal((await settled()).phase, 'running');
  await kill(child, 'SIGKILL');
});

t.test('killed mid-stop-for-sleep (the app stopped, the others not): the restarted orchestrator finishes the stop', async (t) => {
  await leaveOperation('sleep', 'storage:stopping');
  await docker('stop', container('app'));
  const child = await startOrchestrator(env, apiPort, children);
  const doc = await settled();
  t.equal(doc.phase, 'sleeping', `ended sleeping (${doc.lastError?.message ?? 'no error'})`);
  t.same(await states(), {}, 'all three stopped and let go (a sleeping team keeps only its volumes)');
  t.equal((await throughNginx(tp, slug, 'GET', '/healthz', {}, undefined, 60_000)).status, 200, 'and the next request wakes it');
  t.equal((await settled()).phase, 'running');
  await kill(child, 'SIGKILL');
});

t.test('killed mid-wake with a request held: the request gets a 503 at once, the restarted orchestrator finishes the wake', async (t) => {
  let child = await startOrchestrator(env, apiPort, children);
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/tenants/${slug}/actions/sleep?stop=true`, { method: 'POST', headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(res.status, 202);
  t.equal((await settled()).phase, 'sleeping');
  const held = throughNginx(tp, slug, 'GET', '/healthz', {}, undefined, 60_000);
  // Half awake: the wake has made containers again and has not ended (its
  // app not answering yet). Services start together, so "db running, app not"
  // can last less than one poll: the wake still in the registry is the mark.
  await until(async () => {
    const now = await states();
    return Object.keys(now).length > 0 && (await storedTenant(tp, slug))?.operation?.kind === 'wake';
  }, 60_000, 'the wake to be starting containers', 25);
  await kill(child, 'SIGKILL');
  const killedAt = Date.now();
  const answer = await held;
  t.equal(answer.status, 503, 'the held request is answered 503, not left hanging');
  t.ok(Date.now() - killedAt < 10_000, 'within the ask\'s bound');
  t.equal((await storedTenant(tp, slug))?.operation?.kind, 'wake', 'the dead process left its wake behind');
  child = await startOrchestrator(env, apiPort, children);
  const doc = await settled();
  t.equal(doc.phase, 'running', `ended running (${doc.lastError?.message ?? 'no error'})`);
  t.same(await states(), { app: 'running', db: 'running', storage: 'running' }, 'all three running');
  t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200, 'served');
  await kill(child, 'SIGTERM');
});
