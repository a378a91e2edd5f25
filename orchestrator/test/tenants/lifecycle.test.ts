// The whole lifecycle through the DevOps API and a real nginx, on the real
// engine: create → serving at <slug>.<domain> → stop (503 page) → start →
// restart → delete (data kept) → delete with data.
import t from 'tap';
import net from 'node:net';
import { httpGet } from '../../src/runtime/http-get.js';
import { names } from '../../src/names.js';
import { docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { assertStartSteps } from '../helpers/start-steps.js';

const tp = await startTestPlatform('life');
t.teardown(() => tp.close());
const { app, events } = tp.platform;
const auth = { authorization: `Bearer ${tp.token}` };
const slug = testSlug('life');
const host = `${slug}.${tp.config.baseDomain}`;

const viaNginx = (path: string) => httpGet(`http://127.0.0.1:${tp.nginx.port}${path}`, 10_000, { host });

async function act(method: 'POST' | 'DELETE', url: string, payload?: object) {
  const res = await app.inject({ method, url, headers: auth, payload });
  return { status: res.statusCode, body: res.json() as { operation: { id: string }; error?: { code: string } } };
}

t.test('create: 202, then every step as an event, then running and routed', async (t) => {
  const seen: string[] = [];
  const unsubscribe = events.subscribe((e) => e.tenant === slug && e.type === 'operation.step' && seen.push(String(e.data?.step)));
  const created = await act('POST', '/api/v1/tenants', { slug, displayName: 'Life Test', plan: 'starter' });
  t.equal(created.status, 202);
  const end = await operationEnd(events, created.body.operation.id);
  unsubscribe();
  t.equal(end.type, 'operation.succeeded', JSON.stringify(end.data));
  assertStartSteps(t, seen, { after: ['storage-limit', 'route'] });

  const res = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth });
  const tenant = res.json();
  t.equal(tenant.phase, 'running');
  t.same(tenant.services, { db: 'running', storage: 'running', app: 'running' });
  t.equal(tenant.url, `http://${host}:${tp.nginx.port}/`);
  t.notOk('secrets' in tenant, 'secrets never leave the registry');
  const list = (await app.inject({ method: 'GET', url: '/api/v1/tenants', headers: auth })).json();
  t.notMatch(JSON.stringify(list), /secret|STORAGE_KEY/i, 'nor the list');

  const page = await viaNginx('/healthz');
  t.equal(page.status, 200, 'served through nginx at <slug>.<domain>');
  t.match(page.body, /"status":"ok"/);
  t.equal(await docker('port', names.container(slug, 'app'), '3000'), `127.0.0.1:${tenant.port}`, 'published at the port the registry recorded');
});

t.test('a second operation while one runs is 409; an unknown tenant is 404', async (t) => {
  const first = await act('POST', `/api/v1/tenants/${slug}/actions/restart`);
  t.equal(first.status, 202);
  const second = await act('POST', `/api/v1/tenants/${slug}/actions/stop`);
  t.equal(second.status, 409);
  t.equal(second.body.error?.code, 'OPERATION_CONFLICT');
  const end = await operationEnd(events, first.body.operation.id);
  t.equal(end.type, 'operation.succeeded');
  t.equal((await viaNginx('/healthz')).status, 200, 'serving after the restart');
  const missing = await act('POST', '/api/v1/tenants/nobody-here/actions/start');
  t.equal(missing.status, 404);
  t.equal(missing.body.error?.code, 'TENANT_NOT_FOUND');
});

t.test('stop: phase stopped, containers stopped, nginx answers a 503 page (not 502)', async (t) => {
  const stop = await act('POST', `/api/v1/tenants/${slug}/actions/stop`);
  t.equal((await operationEnd(events, stop.body.operation.id)).type, 'operation.succeeded');
  const tenant = (await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth })).json();
  t.equal(tenant.phase, 'stopped');
  t.same(tenant.services, { db: 'exited', storage: 'exited', app: 'exited' });
  const page = await viaNginx('/');
  t.equal(page.status, 503);
  t.match(page.body, /stopped/i);

  const start = await act('POST', `/api/v1/tenants/${slug}/actions/start`);
  t.equal((await operationEnd(events, start.body.operation.id)).type, 'operation.succeeded');
  t.equal((await viaNginx('/healthz')).status, 200, 'serving again after start');
});

t.test('history holds every transition', async (t) => {
  const history = (await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}/events?limit=500`, headers: auth })).json().events as { type: string; data?: { to?: string } }[];
  const phases = history.filter((e) => e.type === 'tenant.phase').map((e) => e.data?.to);
  t.same(phases, ['running', 'stopped', 'running']);  // restarts keep the phase
  t.ok(history.some((e) => e.type === 'tenant.created'));
});

t.test('logs: tail per service; an unknown service is named', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}/logs?service=app&tail=20`, headers: auth });
  t.equal(res.statusCode, 200);
  t.ok((res.json().lines as string[]).some((l) => l.includes('Listening on')));
  const bad = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}/logs?service=web`, headers: auth });
  t.equal(bad.statusCode, 400);
  // The services of the loaded templates are in the query's schema, so the API document lists them.
  t.match(bad.json().error.message, /^querystring\.service must be one of: app, db, storage/);
});

t.test('events over WebSocket: every step of an operation, live', async (t) => {
  const ws = await app.injectWS(`/api/v1/events?tenant=${slug}`, { headers: auth });
  const got: { type: string; operation?: string; data?: { step?: string } }[] = [];
  const ended = new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      const e = JSON.parse(raw.toString());
      got.push(e);
      if (e.type === 'operation.succeeded' || e.type === 'operation.failed') resolve();
    });
  });
  const restart = await act('POST', `/api/v1/tenants/${slug}/actions/restart`);
  await ended;
  ws.terminate();
  t.ok(got.every((e) => e.operation === restart.body.operation.id), 'only this tenant\'s operation');
  t.equal(got[0]?.type, 'operation.started');
  t.same(got.filter((e) => e.type === 'operation.step').map((e) => e.data?.step).slice(0, 3), ['app:stopping', 'storage:stopping', 'db:stopping']);
  t.equal(got.at(-1)?.type, 'operation.succeeded');
});

t.test('logs follow over WebSocket', async (t) => {
  const ws = await app.injectWS(`/api/v1/tenants/${slug}/logs/ws?service=app&tail=5`, { headers: auth });
  const line = await new Promise<string>((resolve) => ws.once('message', (raw: Buffer) => resolve(raw.toString())));
  ws.terminate();
  t.match(line, /\S/, 'a log line arrived');
  // A line of the app's may say "error" (it logs waiting for its storage at
  // start); the stream's own failure is a frame {"error":{"code",…}}.
  t.notMatch(line, /^\{"error":\{"code"/, 'not the stream\'s error frame');
});

t.test('delete keeps the data unless confirmed; with confirmation it goes too', async (t) => {
  const refused = await act('DELETE', `/api/v1/tenants/${slug}?deleteData=true`);
  t.equal(refused.status, 400);
  t.equal(refused.body.error?.code, 'CONFIRMATION_REQUIRED');

  const del = await act('DELETE', `/api/v1/tenants/${slug}`);
  t.equal(del.status, 202);
  t.equal((await operationEnd(events, del.body.operation.id)).type, 'operation.succeeded');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth })).statusCode, 404);
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '', 'containers gone');
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'networks gone');
  t.equal((await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').length, 2, 'volumes kept');
  const page = await viaNginx('/');
  t.equal(page.status, 404, 'host falls back to the default server');

  // Same slug again reattaches the kept volumes with the kept secrets; then delete it with its data.
  const again = await act('POST', '/api/v1/tenants', { slug });
  t.equal((await operationEnd(events, again.body.operation.id)).type, 'operation.succeeded');
  t.equal((await viaNginx('/healthz')).status, 200, 'the reattached data opens with the kept credentials');
  const wipe = await act('DELETE', `/api/v1/tenants/${slug}?deleteData=true&confirm=${slug}`);
  t.equal((await operationEnd(events, wipe.body.operation.id)).type, 'operation.succeeded');
  t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'volumes deleted on confirmation');
});

t.test('volumes nobody holds the credentials for are refused, not reused and not deleted', async (t) => {
  const orphan = testSlug('orph');
  const labels = { 'berth.managed': 'true', 'berth.platform': tp.config.platformId, 'berth.tenant': orphan };
  await runtime.ensureVolume({ name: names.volume(orphan, 'db-data'), labels });
  t.teardown(() => runtime.removeVolume(names.volume(orphan, 'db-data')));
  const res = await act('POST', '/api/v1/tenants', { slug: orphan });
  t.equal(res.status, 409);
  t.equal(res.body.error?.code, 'TENANT_DATA_EXISTS');
  t.match((res.body.error as { message?: string })?.message, /remove them with docker volume rm, or choose another slug/);
  t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${orphan}`), names.volume(orphan, 'db-data'), 'untouched');
});

t.test('an app port bound outside Berth meanwhile: the start moves the app to another port, routed', async (t) => {
  const moved = testSlug('port');
  const made = await act('POST', '/api/v1/tenants', { slug: moved });
  t.equal((await operationEnd(events, made.body.operation.id)).type, 'operation.succeeded');
  const stopped = await act('POST', `/api/v1/tenants/${moved}/actions/stop`);
  t.equal((await operationEnd(events, stopped.body.operation.id)).type, 'operation.succeeded');
  const before = (await tp.platform.repo.mustGet(moved)).port;
  // Another process takes the stopped app's port, as something outside the registry could.
  const squatter = net.createServer();
  await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(before, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const started = await act('POST', `/api/v1/tenants/${moved}/actions/start`);
  const end = await operationEnd(events, started.body.operation.id);
  t.equal(end.type, 'operation.succeeded', `started (${JSON.stringify(end.data)})`);
  const after = await tp.platform.repo.mustGet(moved);
  t.not(after.port, before, 'on another port');
  t.equal(after.phase, 'running');
  const page = await httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 10_000, { host: `${moved}.${tp.config.baseDomain}` });
  t.equal(page.status, 200, 'routed to the new port');
  const wipe = await act('DELETE', `/api/v1/tenants/${moved}?deleteData=true&confirm=${moved}`);
  t.equal((await operationEnd(events, wipe.body.operation.id)).type, 'operation.succeeded');
});
