// SIGKILL the orchestrator (a real process) twice in the middle of an upgrade
// job and start it again each time: once after a tenant's route moved to its
// new container (the restart finishes that swap), once while a new container
// is still starting (the restart undoes it and the job tries that tenant
// again). The job resumes where it stood and ends with every tenant on the
// new version, one app container each, nothing left over.
import t from 'tap';
import { httpGet } from '../../src/runtime/http-get.js';
import { names } from '../../src/names.js';
import { crashHarness } from '../helpers/crash-harness.js';
import { docker, testSlug } from '../helpers/docker.js';
import { operationEnd, until } from '../helpers/wait.js';

const { tp, v2: V2, repo, api, start, kill, ...h } = await crashHarness(t, 'upcrash', 'cr');
const V1 = tp.config.defaultAppVersion;
const c = tp.config;
const slugs = Array.from({ length: 3 }, (_, i) => testSlug(`k${i}`)).sort();
const atStep = (slug: string, steps: RegExp) => h.atStep(slug, 'upgrade', steps);

t.before(async () => {
  // Made by the in-process platform (its loops never start), before any orchestrator process runs.
  const ops = await Promise.all(slugs.map(async (slug) => (await tp.platform.tenants.create({ slug })).operation.id));
  for (const op of ops) t.equal((await operationEnd(tp.platform.events, op, 240_000)).type, 'operation.succeeded');
});

t.test('killed twice mid-job, restarted each time: the job resumes and finishes', async (t) => {
  let proc = await start();
  const res = await api('/upgrades', { method: 'POST', body: JSON.stringify({ toVersion: V2, all: true, canary: 0, concurrency: 1 }) });
  t.equal(res.status, 202);
  const id = ((await res.json()) as { id: string }).id;

  // 1: the first tenant's route already points at its new container.
  await atStep(slugs[0]!, /^(drain|remove-old)$/);
  await kill(proc);
  const left = await repo.get(slugs[0]!);
  t.match(left, { appVersion: V2, appSlot: 'b', operation: { kind: 'upgrade' } }, 'the registry follows the route; the operation is left behind');
  proc = await start();

  // 2: the second tenant's new container is still starting; the route is on the old one.
  await atStep(slugs[1]!, new RegExp(`^(prepare|start:${V2.replace(/\./g, '\\.')})$`));
  await kill(proc);
  t.match(await repo.get(slugs[1]!), { appVersion: V1, operation: { kind: 'upgrade' } }, 'killed before the switch');
  proc = await start();

  const job = await until(async () => {
    const j = (await (await api(`/upgrades/${id}`)).json()) as { state: string; reason?: string; counts: Record<string, number>; tenants: { slug: string; state: string; attempts: number }[] };
    return j.state !== 'running' ? j : undefined;
  }, 180_000, 'the job to end', 250);
  t.equal(job.state, 'succeeded', job.reason ?? '');
  t.same(job.counts, { pending: 0, upgrading: 0, succeeded: 3, failed: 0, skipped: 0 });
  // The second may also have been starting at the first kill (a tenant's turn comes once the one before is switched).
  const attempts = Object.fromEntries(job.tenants.map((e) => [e.slug, e.attempts]));
  t.equal(attempts[slugs[0]!], 1, 'the swap finished by the restarted process was not done again');
  t.ok(attempts[slugs[1]!]! >= 2, `the undone one was upgraded again (attempts: ${attempts[slugs[1]!]})`);
  t.equal(attempts[slugs[2]!], 1);

  for (const slug of slugs) {
    const doc = (await repo.get(slug))!;
    t.match(doc, { appVersion: V2, phase: 'running' }, `${slug} on the new version`);
    t.notOk(doc.operation, 'no operation left');
    t.notOk(doc.nextPort, 'no port held for a swap');
    const apps = (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--filter', 'label=berth.service=app', '--format', '{{.Names}} {{.State}}')).split('\n');
    t.same(apps, [`${names.container(slug, 'app', 'b')} running`], 'one app container, in the new slot');
    t.equal(await docker('port', names.container(slug, 'app', 'b'), '3000'), `127.0.0.1:${doc.port}`);
    const page = await httpGet(`http://127.0.0.1:${c.nginx.httpPort}/version`, 10_000, { host: `${slug}.${c.baseDomain}` });
    t.match(page, { status: 200, body: new RegExp(`"version":"${V2}"`) }, 'nginx serves the new version');
  }
  const resumed = (await tp.platform.events.history({ tenant: slugs[0]! }, 200)).filter((e) => e.type === 'operation.resumed');
  t.equal(resumed.length, 1, 'the first swap was taken over by the restarted process');
  await kill(proc, 'SIGTERM');
});
