// Every operation ends: a Docker call that never answers fails the operation
// within the call's deadline, with the step and the call in the event and the
// API; the tenant's lock is released and nothing is left. Two hangs: a fault
// injected over the real engine (a start that never returns), and a real one
// of the real engine (the container's containerd shim stopped, after which
// dockerd answers nothing about that container: the hang the suite once met).
import { readFile } from 'node:fs/promises';
import t from 'tap';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';

const slug = testSlug('hang');
// The app container's start never answers, for this slug only (either naming scheme).
let hanging = true;
const hangs = (name: string) => hanging && name.includes(slug) && /[-.]app$/.test(name);
let hung = 0;
// The db of this slug: its shim is stopped right after the engine starts it.
const frozenSlug = testSlug('frz');
let thaw: (() => void) | undefined;
const wrapRuntime = (inner: ContainerRuntime): ContainerRuntime =>
  new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'startContainer') {
        return async (name: string) => {
          if (!thaw && name.includes(frozenSlug) && /[-.]db$/.test(name)) {
            await target.startContainer(name);
            thaw = await freezeShim(name);
            return;
          }
          if (!hangs(name)) return target.startContainer(name);
          hung++;
          return new Promise<void>(() => {});
        };
      }
      return Reflect.get(target, prop, receiver);
    }
  });

/**
 * Stops the engine's own process for a container (its containerd shim, the
 * parent of the container's first process): until thawed, dockerd gives no
 * answer to an inspect, exec or remove of that container. Real, and undone.
 */
async function freezeShim(container: string): Promise<() => void> {
  const pid = Number((await docker('inspect', '-f', '{{.State.Pid}}', container)).trim());
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const shim = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const comm = (await readFile(`/proc/${shim}/comm`, 'utf8')).trim();
  if (!comm.startsWith('containerd-shim')) throw new Error(`the parent of ${container}'s process is ${comm}, not its shim`);
  process.kill(shim, 'SIGSTOP');
  let thawed = false;
  return () => {
    if (!thawed) process.kill(shim, 'SIGCONT');
    thawed = true;
  };
}

const CALL_MS = 3000;
const tp = await startTestPlatform('dl', { deadlines: { runtimeCallMs: CALL_MS, operationMs: 120_000 } }, undefined, { wrapRuntime });
t.teardown(async () => {
  thaw?.();
  await tp.close();
});
const auth = { authorization: `Bearer ${tp.token}` };

t.test('a start call with no answer (fault injected over the real engine) fails the create within its deadline', async (t) => {
  const began = Date.now();
  const created = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug } });
  t.equal(created.statusCode, 202, created.body);
  const end = await operationEnd(tp.platform.events, created.json().operation.id, 90_000);
  const seconds = (Date.now() - began) / 1000;
  t.comment(`the create failed after ${seconds.toFixed(1)} s (call deadline ${CALL_MS} ms)`);
  t.equal(hung, 1, 'the app start was the call that hung');
  t.equal(end.type, 'operation.failed');
  t.equal(end.data?.code, 'RUNTIME_TIMEOUT');
  t.equal(end.data?.step, 'app:starting', 'the event names the step');
  t.match(end.data?.call, new RegExp(`^startContainer berth[-.]${slug}[-.]app$`), 'and the call it waited on');
  t.match(end.data?.message, /did not answer startContainer .* within 3000 ms/);

  const res = await tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth });
  const tenant = res.json();
  t.equal(tenant.phase, 'failed', 'a clear phase');
  t.notOk(tenant.operation, 'the lock is released');
  t.match(tenant.lastError, { code: 'RUNTIME_TIMEOUT', step: 'app:starting', call: end.data?.call }, 'the API shows where it stopped');
  t.same(await runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug }), [], 'a failed create leaves no container');

  // The engine answers again: a start succeeds and clears the error.
  hanging = false;
  const started = await tp.platform.app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/actions/start`, headers: auth });
  t.equal(started.statusCode, 202, 'a new operation can take the tenant at once');
  t.equal((await operationEnd(tp.platform.events, started.json().operation.id, 120_000)).type, 'operation.succeeded');
  const after = (await tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth })).json();
  t.equal(after.phase, 'running');
  t.notOk(after.lastError, 'a success clears the last error');

  const deleted = await tp.platform.app.inject({ method: 'DELETE', url: `/api/v1/tenants/${slug}?deleteData=true&confirm=${slug}`, headers: auth });
  t.equal(deleted.statusCode, 202);
  t.equal((await operationEnd(tp.platform.events, deleted.json().operation.id, 60_000)).type, 'operation.succeeded');
});

t.test('a container whose shim stops answering (a real hang of the real engine) fails the create within the call deadline', async (t) => {
  const began = Date.now();
  const created = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug: frozenSlug } });
  t.equal(created.statusCode, 202, created.body);
  let end;
  try {
    end = await operationEnd(tp.platform.events, created.json().operation.id, 90_000);
  } finally {
    t.comment(`the create ended after ${((Date.now() - began) / 1000).toFixed(1)} s (call deadline ${CALL_MS} ms); shim frozen: ${Boolean(thaw)}`);
  }
  t.ok(thaw, 'the db shim was stopped');
  // Proof the hang is real: the engine itself does not answer about the db.
  const db = (await runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': frozenSlug })).find((c) => /[-.]db$/.test(c.name));
  const asked = await Promise.race([docker('inspect', db?.name ?? 'missing').then(() => 'answered', () => 'refused'), new Promise((r) => setTimeout(() => r('no answer'), 2000))]);
  t.equal(asked, 'no answer', 'docker inspect of the frozen db gets no answer either');
  t.equal(end.type, 'operation.failed');
  t.equal(end.data?.code, 'RUNTIME_TIMEOUT');
  t.equal(end.data?.step, 'db:starting', 'the event names the step');
  t.match(end.data?.call, new RegExp(`^(inspectContainer|exec) berth[-.]${frozenSlug}[-.]db$`), 'and the call it waited on');
  const tenant = (await tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${frozenSlug}`, headers: auth })).json();
  t.equal(tenant.phase, 'failed', 'a clear phase');
  t.notOk(tenant.operation, 'the lock is released');

  // The engine answers again: the team can be removed, and nothing is left.
  thaw!();
  const deleted = await tp.platform.app.inject({ method: 'DELETE', url: `/api/v1/tenants/${frozenSlug}?deleteData=true&confirm=${frozenSlug}`, headers: auth });
  t.equal(deleted.statusCode, 202, deleted.body);
  t.equal((await operationEnd(tp.platform.events, deleted.json().operation.id, 60_000)).type, 'operation.succeeded');
  t.same(await runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': frozenSlug }), [], 'nothing is left');
});
