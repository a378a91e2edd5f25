// Every operation ends: a Docker call that never answers (a fault injected
// over the real engine: Docker cannot be made to hang on demand) fails the
// operation within the call's deadline, with the step and the call in the
// event and the API; the tenant's lock is released and nothing is left.
import t from 'tap';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';

const slug = testSlug('hang');
// The app container's start never answers, for this slug only (either naming scheme).
let hanging = true;
const hangs = (name: string) => hanging && name.includes(slug) && /[-.]app$/.test(name);
let hung = 0;
const wrapRuntime = (inner: ContainerRuntime): ContainerRuntime =>
  new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'startContainer') {
        return (name: string) => {
          if (!hangs(name)) return target.startContainer(name);
          hung++;
          return new Promise<void>(() => {});
        };
      }
      return Reflect.get(target, prop, receiver);
    }
  });

const CALL_MS = 3000;
const tp = await startTestPlatform('dl', { deadlines: { runtimeCallMs: CALL_MS, operationMs: 120_000 } }, undefined, { wrapRuntime });
t.teardown(() => tp.close());
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
