// SIGKILL the orchestrator (a real process) while an upgrade job handles its
// sleepers, and start it again each time: once after a frozen team's route
// moved to its new container (the restart finishes the swap, then freezes the
// team again), once while a sleeping team is being woken for its upgrade (the
// restart finishes the wake, the job upgrades it and stops it again). Each
// ends in its former sleep on the new version: a crash leaves no sleeper awake.
import t, { type Test } from 'tap';
import type { ChildProcess } from 'node:child_process';
import { names } from '../../src/names.js';
import { crashHarness } from '../helpers/crash-harness.js';
import { docker, testSlug } from '../helpers/docker.js';
import { operationEnd, until } from '../helpers/wait.js';

const { tp, v2: V2, repo, api, start, kill, atStep } = await crashHarness(t, 'upslcr', 'sc');
const [frozen, sleeping] = [testSlug('ka'), testSlug('kb')] as [string, string];

t.before(async () => {
  // Made and put to sleep by the in-process platform (its loops never start), before any orchestrator process runs.
  const p = tp.platform;
  const ops = await Promise.all([frozen, sleeping].map(async (slug) => (await p.tenants.create({ slug })).operation.id));
  for (const op of ops) t.equal((await operationEnd(p.events, op, 240_000)).type, 'operation.succeeded');
  for (const [slug, stop] of [[frozen, false], [sleeping, true]] as const) {
    const { operation } = await p.tenants.sleep(slug, { stop });
    t.equal((await operationEnd(p.events, operation.id)).type, 'operation.succeeded');
  }
  t.equal((await repo.get(frozen))?.phase, 'frozen');
  t.equal((await repo.get(sleeping))?.phase, 'sleeping');
});

interface Job { state: string; reason?: string; counts: Record<string, number>; tenants: { slug: string; state: string; sleeper?: { from: string; after?: string } }[] }

let proc: ChildProcess;

/** Starts a job over one team, kills the orchestrator once `at` is reached, starts it again, and returns the job at its end. */
async function jobKilledAt(t: Test, slug: string, at: () => Promise<unknown>, killed: Record<string, unknown>): Promise<Job> {
  const res = await api('/upgrades', { method: 'POST', body: JSON.stringify({ toVersion: V2, tenants: [slug], canary: 0 }) });
  t.equal(res.status, 202);
  const id = ((await res.json()) as { id: string }).id;
  await at();
  await kill(proc);
  t.match(await repo.get(slug), killed, 'killed where the test meant');
  proc = await start();
  return until(async () => {
    const j = (await (await api(`/upgrades/${id}`)).json()) as Job;
    return j.state !== 'running' ? j : undefined;
  }, 240_000, 'the job to end', 250);
}

async function asleepOnV2(t: Test, slug: string, phase: string, state: string): Promise<void> {
  const doc = (await repo.get(slug))!;
  t.match(doc, { appVersion: V2, phase }, `${slug}: ${phase} on the new version`);
  t.notOk(doc.operation, 'no operation left');
  const all = (await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.Names}} {{.State}}')).split('\n').filter(Boolean).sort();
  if (state === 'gone') {
    // Stopped for sleep: a sleeping team keeps only its volumes; its next wake makes the new version's containers.
    t.same(all, [], `${slug}: no container left`);
    return;
  }
  t.same(all.map((l) => l.split(' ')[1]), [state, state, state], `${slug}: every container ${state}`);
  t.ok(all.some((l) => l.startsWith(`${names.container(slug, 'app', 'b')} `)), 'its app is the new slot\'s; the old one is gone');
}

t.test('the orchestrator killed while it upgrades sleepers, then started again', async (t) => {
  proc = await start();
  t.teardown(() => kill(proc, 'SIGTERM'));

  t.test('killed after a frozen team\'s route moved to its new container: the restart finishes the swap and freezes it again', async (t) => {
    const job = await jobKilledAt(t, frozen, () => atStep(frozen, 'upgrade', /^(drain|remove-old)$/), { appVersion: V2, operation: { kind: 'upgrade' } });
    t.equal(job.state, 'succeeded', job.reason ?? '');
    t.match(job.tenants[0], { state: 'succeeded', sleeper: { from: 'frozen', after: 'frozen' } });
    await asleepOnV2(t, frozen, 'frozen', 'paused');
  });

  t.test('killed while a sleeping team is woken for its upgrade: the restart finishes the wake, the job upgrades it and stops it again', async (t) => {
    const job = await jobKilledAt(t, sleeping, () => atStep(sleeping, 'wake', /./), { phase: 'sleeping', appVersion: tp.config.defaultAppVersion, operation: { kind: 'wake' } });
    t.equal(job.state, 'succeeded', job.reason ?? '');
    t.match(job.tenants[0], { state: 'succeeded', sleeper: { from: 'sleeping', after: 'sleeping' } });
    await asleepOnV2(t, sleeping, 'sleeping', 'gone');
  });
});
