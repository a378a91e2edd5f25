// Operations: /healthz and /version contracts, a failed dependency named in
// the 503, and SIGTERM finishing in-flight work (an open event stream does not
// hold shutdown) before closing the database.
import t from 'tap';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { seedMember, signIn } from './helpers/client.js';
import { runtime, startServices, type Services } from './helpers/services.js';

let services: Services;
let app: RunningApp;

t.before(async () => {
  services = await startServices('ops');
  const env = stackEnv(services, 'team');
  await seedMember(env.MONGO_URL, 'ops@example.com', 'ops password 1', 'owner');
  app = await startApp({ ...env, LOG_LEVEL: 'info' });
});

t.teardown(async () => {
  await app?.stop();
  await services?.stop();
});

t.test('/healthz and /version', async (t) => {
  const res = await fetch(`${app.url}/healthz`);
  t.equal(res.status, 200);
  t.match(await res.json(), { status: 'ok', failed: [], checks: { db: { ok: true }, storage: { ok: true } } });
  t.same(await (await fetch(`${app.url}/version`)).json(), { name: 'berth-tenant-app', version: '9.9.9-test' });
  t.ok(app.logs.some((l) => l.msg === 'request' && l.path === '/healthz' && l.status === 200), 'JSON request logs (pino)');
});

t.test('SIGTERM: in-flight requests finish, open streams end, the database closes', async (t) => {
  const session = await signIn(app.url, 'ops@example.com', 'ops password 1');
  const stream = await session.fetch('/api/events');
  t.equal(stream.status, 200);
  const item = ((await (await session.json('POST', '/api/items', { title: 'x' })).json()) as { item: { id: string } }).item;
  // An upload that is still sending when SIGTERM arrives.
  let push: (chunk: Uint8Array) => void = () => {};
  let end: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({ start(c) { push = (x) => c.enqueue(x); end = () => c.close(); } });
  const upload = session.fetch(`/api/items/${item.id}/attachments?name=slow.bin`, {
    method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(2 * 65536) }, body, duplex: 'half'
  } as RequestInit);
  push(new Uint8Array(65536));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  const exited = app.stop();
  await new Promise((resolve) => setTimeout(resolve, 300));
  push(new Uint8Array(65536));
  end();
  t.equal((await upload).status, 201, 'the upload in flight at SIGTERM completes');
  const code = await exited;
  t.equal(code, 0, 'clean exit');
  t.ok(Date.now() - started < 5000, `exited in ${Date.now() - started} ms despite an open event stream (SHUTDOWN_TIMEOUT is 20 s)`);
  t.ok(app.logs.some((l) => l.msg === 'database closed, exiting'));
});

t.test('a stopped storage shows as 503 failed ["storage"]', async (t) => {
  app = await startApp({ ...stackEnv(services, 'team'), HEALTH_CHECK_TIMEOUT_MS: '1000' });
  await runtime.stopContainer(services.names.storage, 1);
  const res = await fetch(`${app.url}/healthz`);
  t.equal(res.status, 503);
  t.match(await res.json(), { status: 'fail', failed: ['storage'], checks: { db: { ok: true }, storage: { ok: false } }, message: /^storage: / });
});
