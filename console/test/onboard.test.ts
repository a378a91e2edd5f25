// The wizard's pure progress fold, and the WebSocket proxy's onboarding route
// against a stand-in orchestrator (a fake: the real one is in
// onboard.browser.test.ts): the sign-up cookie goes upstream as X-Berth-Signup
// with the browser's address, never the operator session, and the browser
// has no say in which tenant it follows.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { attachWebSocketProxy } from '../ws-proxy.js';
import { mergeEvents, progressSteps } from '../src/lib/onboard-progress.js';
import type { ProgressEvent } from '../../orchestrator/src/contract/index.js';

let seq = 0;
const ev = (type: string, step?: string, operation = 'op1'): ProgressEvent => ({ seq: ++seq, at: '', type, operation, data: step ? { kind: 'create', step } : { kind: 'create' } });
const states = (events: ProgressEvent[], op = 'op1') => Object.fromEntries(progressSteps(events, op).map((s) => [s.key, s.state]));

t.test('progress: each engine step moves the list on; a failure marks the step it stopped at; other operations do not count', async (t) => {
  const events = [ev('operation.started'), ev('operation.step', 'network'), ev('operation.step', 'volumes'), ev('operation.step', 'db:starting')];
  t.same(states(events), { network: 'done', volumes: 'done', db: 'active', storage: 'pending', app: 'pending', health: 'pending', route: 'pending' });
  const more = [...events, ev('operation.step', 'db:healthy'), ev('operation.step', 'storage:starting'), ev('operation.step', 'storage:healthy'), ev('operation.step', 'app:starting')];
  t.match(states(more), { storage: 'done', app: 'active', health: 'pending' });
  t.match(states([...more, ev('operation.step', 'app:healthy')]), { app: 'done', health: 'done', route: 'active' });
  t.same(Object.values(states([...more, ev('operation.step', 'route'), ev('operation.succeeded')])), Array(7).fill('done'), 'succeeded: all done');
  t.match(states([...events, ev('operation.failed')]), { volumes: 'done', db: 'failed', storage: 'pending' });
  t.same(Object.values(states(events, 'op2')), Array(7).fill('pending'), 'another operation\'s events are not this one\'s');
  const endless = [ev('operation.started')];
  t.match(Object.fromEntries(progressSteps(endless, 'op1', 'failed').map((s) => [s.key, s.state])), { network: 'failed', volumes: 'pending' },
    'a status that already says failed, before the end event exists: the step it stopped at is marked failed');
  t.same(progressSteps(endless, 'op1', 'ok').map((s) => s.state), Array(7).fill('done'), 'and one that says ready: all done');
  const a = [ev('operation.step', 'network')];
  t.equal(mergeEvents(a, [...a, ev('operation.step', 'volumes')]).length, 2, 'a snapshot and live events merge by seq');
});

t.test('progress: services starting together, in any order, never move the list back', async (t) => {
  const steps = ['network', 'volumes', 'storage:starting', 'app:starting', 'db:starting', 'storage:healthy', 'db:healthy', 'app:healthy', 'storage-limit', 'route'];
  const rank = { pending: 0, active: 1, done: 2, failed: 2 } as const;
  const events = [ev('operation.started')];
  let before = progressSteps(events, 'op1');
  for (const step of steps) {
    events.push(ev('operation.step', step));
    const now = progressSteps(events, 'op1');
    for (const [i, s] of now.entries()) t.ok(rank[s.state] >= rank[before[i]!.state], `after ${step}: ${s.key} went from ${before[i]!.state} to ${s.state}`);
    t.ok(now.filter((s) => s.state === 'active').length <= 1, `after ${step}: at most one active step`);
    before = now;
  }
  t.match(states(events.slice(0, 7)), { db: 'active', storage: 'done', app: 'pending' }, 'storage healthy before the db: the db is still the one waited for');
  t.match(states(events), { health: 'done', route: 'active' });
});

t.test('proxy: /ws/onboard carries the sign-up cookie upstream as X-Berth-Signup, never the session, and no query', async (t) => {
  const seen: { url?: string; signup?: string; authorization?: string; forwarded?: string }[] = [];
  const upstream = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  upstream.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url, signup: req.headers['x-berth-signup'] as string, authorization: req.headers.authorization, forwarded: req.headers['x-forwarded-for'] as string });
    wss.handleUpgrade(req, socket, head, (ws) => ws.send('{"type":"snapshot"}'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const consoleServer = http.createServer((_q, res) => res.end());
  await new Promise<void>((resolve) => consoleServer.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(consoleServer.address() as AddressInfo).port}`;
  const proxy = attachWebSocketProxy(consoleServer, { apiUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, origin });
  t.teardown(async () => {
    proxy.close();
    for (const ws of wss.clients) ws.terminate();
    consoleServer.closeAllConnections();
    await new Promise((r) => consoleServer.close(r));
    await new Promise((r) => upstream.close(r));
  });

  const signup = `bsig_${'a'.repeat(43)}`;
  const connect = (path: string, cookie: string) => new Promise<number | string>((resolve) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}${path}`, { headers: { origin, cookie } });
    ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.on('message', (data: Buffer) => (ws.close(), resolve(String(data))));
    ws.on('error', () => resolve(-1));
  });
  t.equal(await connect('/ws/onboard?tenant=someone-else', `berth_session=bsess_${'b'.repeat(43)}; berth_signup=${signup}`), '{"type":"snapshot"}');
  t.match(seen.at(-1), { url: '/api/v1/onboarding/signup/events', signup, authorization: undefined, forwarded: '127.0.0.1' }, 'the query is dropped; only the sign-up goes upstream');
  t.equal(await connect('/ws/onboard', `berth_session=bsess_${'b'.repeat(43)}`), 401, 'a session alone is no sign-up');
  t.equal(await connect('/ws/onboard', 'berth_signup=bsig_short'), 401, 'a malformed sign-up is refused before dialling');
  t.equal(seen.length, 1, 'refused ones never reached the API');
});
