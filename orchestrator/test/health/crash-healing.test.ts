// Healing in seconds, on the real engine and a real nginx: a killed service of
// a team is started again by the crash watcher (Docker's event stream) and
// the team answers 200 through nginx; a process that crashes on its own is
// restarted by Docker's own policy; a service that keeps dying ends the team
// failed with CRASH_LOOP and its last log lines, redacted, and nothing
// restarts it any more; an operator's stop and a delete are left alone. Only
// the crash watcher runs (not the periodic probe), so what heals is the watcher.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ROOT_DIR } from '../../src/config/config.js';
import { names } from '../../src/names.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

// A template like the default one whose app refuses to boot once /state/crash
// exists (a volume, so the marker outlives restarts), printing a secret-looking
// line first: the crash-loop error must carry the log, redacted.
const templatesDir = t.testdir({});
const base = await readFile(path.join(ROOT_DIR, 'templates/tenant.yaml'), 'utf8');
await writeFile(path.join(templatesDir, 'tenant.yaml'), base);
const boot = "const fs=require('fs');if(fs.existsSync('/state/crash')){console.log('boot failed: password=hunter2-secret');process.exit(3)}import('/app/index.js')";
const crashy = base
  .replace('    tmpfs: ["/tmp:size=16m"]\n    x-berth:\n      # Through', `    command: [node, -e, "${boot.replace(/"/g, '\\"')}"]\n    volumes:\n      - app-state:/state\n    tmpfs: ["/tmp:size=16m"]\n    x-berth:\n      # Through`)
  .replace('volumes:\n  db-data: {}', 'volumes:\n  app-state: {}\n  db-data: {}');
if (crashy === base || !crashy.includes('app-state: {}')) throw new Error('setup: the crashy template was not made (tenant.yaml changed shape)');
await writeFile(path.join(templatesDir, 'crashy.yaml'), crashy);

// The engine's event stream, dropped on demand: the watcher must reopen it.
let dropStream: (() => void) | undefined;
const wrapRuntime = (inner: ContainerRuntime): ContainerRuntime => new Proxy(inner, {
  get(target, prop, receiver) {
    if (prop !== 'watchDeaths') return Reflect.get(target, prop, receiver) as unknown;
    return async (...args: Parameters<ContainerRuntime['watchDeaths']>) => {
      const stop = await target.watchDeaths(...args);
      dropStream = stop;
      return stop;
    };
  }
});
const tp = await startTestPlatform('heal', { templatesDir, healing: { restartRetries: 3, crashLoopRestarts: 5, crashLoopWindowMs: 60_000 } }, undefined, { wrapRuntime });
t.teardown(() => tp.close());
const { tenants, events, monitor, repo } = tp.platform;
await monitor.crashes.start();
t.teardown(() => monitor.crashes.stop());

async function create(slug: string, template?: string): Promise<void> {
  const { operation } = await tenants.create({ slug, ...(template ? { template } : {}) });
  const end = await operationEnd(events, operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`setup: ${slug} failed: ${JSON.stringify(end.data)}`);
}

const answers = async (slug: string) => (await throughNginx(tp, slug, 'GET', '/healthz', {}, undefined, 5000).catch(() => ({ status: 0 }))).status === 200;

/** The team answers 200 through nginx and no operation holds it. */
async function answering(slug: string, what: string): Promise<void> {
  await until(async () => (await answers(slug)) && !(await repo.get(slug))?.operation, 120_000, what, 100);
}

const main = testSlug('heal');
await create(main);

t.test('every tenant container carries Docker\'s on-failure policy with the bounded retry count', async (t) => {
  for (const service of ['db', 'storage', 'app']) {
    const policy = await docker('inspect', names.container(main, service), '--format', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}');
    t.equal(policy, 'on-failure:3', service);
  }
});

for (const service of ['app', 'db', 'storage']) {
  t.test(`docker kill of ${service}: the crash watcher starts it and the team answers 200 through nginx`, async (t) => {
    await answering(main, 'answering before the kill');
    const before = (await events.history({ tenant: main }, 1000)).length;
    await docker('kill', names.container(main, service));
    // Docker 20.10 does not restart a killed container itself: the watcher must.
    await answering(main, `answering after ${service} was killed`);
    t.equal(await docker('inspect', names.container(main, service), '--format', '{{.State.Status}}'), 'running');
    const doc = await repo.get(main);
    t.equal(doc?.phase, 'running');
    const since = (await events.history({ tenant: main }, 1000)).slice(before);
    const restart = since.find((e) => e.type === 'health.restart');
    t.equal(restart?.data?.service, service, 'the restart names the killed service');
    t.equal(restart?.data?.reason, 'crashed');
    t.ok(since.some((e) => e.type === 'operation.succeeded' && e.data?.kind === 'heal'), 'under a heal operation that succeeded');
  });
}

t.test('the event stream drops: the watcher reopens it and still heals a kill', async (t) => {
  await answering(main, 'answering before the drop');
  const before = monitor.crashes.reconnects;
  dropStream!();
  await until(() => monitor.crashes.reconnects > before, 30_000, 'the stream to be reopened');
  await docker('kill', names.container(main, 'app'));
  await until(async () => (await docker('inspect', names.container(main, 'app'), '--format', '{{.State.Status}}')) === 'running', 60_000, 'the app to be started again');
  await answering(main, 'answering after the kill');
  t.pass('healed after the reconnect');
});

t.test('a service that died while nobody watched is started when the watcher starts', async (t) => {
  await answering(main, 'answering before');
  monitor.crashes.stop();
  await docker('kill', names.container(main, 'db'));
  await monitor.crashes.start();
  await answering(main, 'answering after the watcher started');
  t.equal(await docker('inspect', names.container(main, 'db'), '--format', '{{.State.Status}}'), 'running');
});

t.test('a process that crashes on its own is restarted by Docker\'s own policy', async (t) => {
  await answering(main, 'answering before the crash');
  const container = names.container(main, 'storage');
  const restarts = Number(await docker('inspect', container, '--format', '{{.RestartCount}}'));
  const pid = await docker('inspect', container, '--format', '{{.State.Pid}}');
  // SIGKILL from outside the engine: a crash as Docker sees one (a non-zero exit it did not ask for).
  process.kill(Number(pid), 'SIGKILL');
  await until(async () => Number(await docker('inspect', container, '--format', '{{.RestartCount}}')) > restarts, 30_000, 'Docker to restart it');
  await answering(main, 'answering after the crash');
  t.pass('answers 200 again');
});

t.test('a service that keeps dying: the team fails with CRASH_LOOP and its last log lines, redacted, and nothing restarts it', async (t) => {
  const slug = testSlug('loop');
  await create(slug, 'crashy');
  const app = names.container(slug, 'app');
  await docker('exec', '-u', '0', app, 'node', '-e', "require('fs').writeFileSync('/state/crash', '')");
  await docker('kill', app);
  const failed = await until(async () => {
    const doc = await repo.get(slug);
    return doc?.phase === 'failed' && !doc.operation ? doc : undefined;
  }, 120_000, 'the team to fail');
  t.equal(failed.lastError?.code, 'CRASH_LOOP');
  t.match(failed.lastError?.message, /service app died \d+ times within 60 s/);
  t.match(failed.lastError?.message, /boot failed: password=\[redacted\]/, 'the last log lines, redacted');
  t.notMatch(failed.lastError?.message, /hunter2/, 'no secret in the error');
  const loop = (await events.history({ tenant: slug }, 1000)).find((e) => e.type === 'health.crash_loop');
  t.equal(loop?.data?.service, 'app', 'operators see a crash-loop event naming the service');
  t.ok((loop?.data?.lines as string[]).some((l) => l.includes('boot failed')), 'with the log lines');
  t.notMatch(JSON.stringify(loop), /hunter2/);
  // Stopped for good: Docker's restarts ended with the stop, and the watcher leaves a failed team alone.
  await monitor.crashes.settled();
  const states = await Promise.all(['app', 'db', 'storage'].map((s) => docker('inspect', names.container(slug, s), '--format', '{{.State.Status}}')));
  t.same(states, ['exited', 'exited', 'exited'], 'every service stopped');
  const restarts = await docker('inspect', app, '--format', '{{.RestartCount}}');
  const heals = (await events.history({ tenant: slug }, 1000)).filter((e) => e.type === 'health.restart').length;
  // A later death of anything of the team (here a start behind Berth's back that dies again) changes nothing.
  await docker('start', app);
  await until(async () => (await docker('inspect', app, '--format', '{{.State.Status}}')) === 'exited', 30_000, 'the app to die again');
  await monitor.crashes.settled();
  t.equal(await docker('inspect', app, '--format', '{{.RestartCount}}'), restarts, 'Docker did not restart it');
  t.equal((await events.history({ tenant: slug }, 1000)).filter((e) => e.type === 'health.restart').length, heals, 'the watcher did not restart it');
  t.equal((await repo.get(slug))?.phase, 'failed');
});

t.test('a team its operator stopped is not started again by the crash watcher', async (t) => {
  const slug = testSlug('stop');
  await create(slug);
  const { operation } = await tenants.stop(slug);
  t.equal((await operationEnd(events, operation.id)).type, 'operation.succeeded');
  await monitor.crashes.settled();
  t.same(await Promise.all(['app', 'db', 'storage'].map((s) => docker('inspect', names.container(slug, s), '--format', '{{.State.Status}}'))), ['exited', 'exited', 'exited']);
  t.notOk((await events.history({ tenant: slug }, 1000)).some((e) => e.type === 'health.restart'), 'no restart');
  t.equal((await repo.get(slug))?.phase, 'stopped');
});

t.test('a deleted team is not resurrected', async (t) => {
  const slug = testSlug('del');
  await create(slug);
  const { operation } = await tenants.delete(slug, { deleteData: true, confirm: slug });
  t.equal((await operationEnd(events, operation.id)).type, 'operation.succeeded');
  await monitor.crashes.settled();
  t.equal(await repo.get(slug), null, 'not in the registry');
  t.same(await tp.platform.runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug }), [], 'no container of it');
});
