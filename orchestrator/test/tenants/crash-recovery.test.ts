// SIGKILL the orchestrator in the middle of a create and start it again: the
// reconciler takes the dead operation over and the tenant ends running, with
// nothing leaked or duplicated. The orchestrator runs as a real process here.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { httpGet } from '../../src/runtime/http-get.js';
import { names } from '../../src/names.js';
import { docker, testSlug } from '../helpers/docker.js';
import { freePort } from '../helpers/nginx.js';
import { startOrchestrator } from '../helpers/orchestrator-process.js';
import { platformEnv, startTestPlatform, storedTenant } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';

const tp = await startTestPlatform('crash');
const apiPort = await freePort();
const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const child of children) child.kill('SIGKILL');
  await tp.close();
});
// Another process writes the registry here: read the database, not the in-process platform's memory.
const repo = { get: (slug: string) => storedTenant(tp, slug) };
const c = tp.config;
const env = platformEnv(c, { BERTH_API_PORT: String(apiPort), BERTH_RECONCILE_INTERVAL_MS: '60000' });

t.test('killed mid-create, restarted: the tenant ends running, nothing leaked', async (t) => {
  const slug = testSlug('crash');
  const first = await startOrchestrator(env, apiPort, children);
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug })
  });
  t.equal(res.status, 202);
  // Kill it once storage or the app is being started (the services start
  // together, in any order): half a stack, its services still on their
  // start-up CPUs. Polled often so the window is not missed.
  await until(async () => {
    const doc = await repo.get(slug);
    if (doc && !doc.operation) throw new Error(`create ended before the kill: ${doc.phase} ${doc.lastError?.code}: ${doc.lastError?.message}`);
    return /^(storage|app):/.test(doc?.operation?.step ?? '') && doc?.operation?.step !== 'app:healthy';
  }, 60_000, 'create to reach storage or the app', 25);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const left = await repo.get(slug);
  t.equal(left?.operation?.kind, 'create', 'the dead process left its operation behind');
  t.equal(left?.phase, 'provisioning');

  const second = await startOrchestrator(env, apiPort, children);
  const done = await until(async () => {
    const doc = await repo.get(slug);
    return doc && !doc.operation ? doc : undefined;
  }, 120_000, 'the resumed create to end');
  t.equal(done.phase, 'running', `ended running (${done.lastError?.message ?? 'no error'})`);
  const containers = (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.Names}} {{.State}}')).split('\n').sort();
  t.same(containers, ['app', 'db', 'storage'].map((s) => `${names.container(slug, s)} running`), 'one of each, no duplicates');
  // Killed while its services had their start-up CPUs: the resumed create holds each to its plan (starter: 0.5).
  for (const service of ['app', 'db', 'storage']) {
    t.equal(await docker('inspect', names.container(slug, service), '--format', '{{.HostConfig.NanoCpus}}'), String(5e8), `${service}: held to its plan's CPUs`);
  }
  t.equal((await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').length, 2, 'two networks, no extras');
  const page = await httpGet(`http://127.0.0.1:${c.nginx.httpPort}/healthz`, 10_000, { host: `${slug}.${c.baseDomain}` });
  t.equal(page.status, 200, 'routed and healthy');
  second.kill('SIGTERM');
  await new Promise((resolve) => second.once('exit', resolve));
});
