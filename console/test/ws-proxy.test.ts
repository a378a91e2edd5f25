// The console's WebSocket proxy against a stand-in orchestrator: the session
// cookie becomes a bearer header upstream, the origin is checked, slugs and
// queries are validated before anything is dialled, frames pass both ways
// (text stays text, binary stays binary), and either side closing closes both.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { attachWebSocketProxy, cookieValue, routeFor } from '../ws-proxy.js';

interface Upstream {
  url: string;
  seen: { url: string; authorization?: string }[];
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** Accepts WebSockets only with "Bearer good-session"; echoes text as "echo:<text>" and binary as is. */
async function startUpstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const sockets: WebSocket[] = [];
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer bsess_good-session') {
      const body = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'the session is unknown or ended' } });
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data: RawData, isBinary: boolean) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    sockets,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  };
}

const upstream = await startUpstream();
const consoleServer = http.createServer((_req, res) => res.end('pages'));
await new Promise<void>((resolve) => consoleServer.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(consoleServer.address() as AddressInfo).port}`;
const proxy = attachWebSocketProxy(consoleServer, { apiUrl: upstream.url, origin });
t.teardown(async () => {
  proxy.close();
  consoleServer.closeAllConnections();
  await new Promise((resolve) => consoleServer.close(resolve));
  await upstream.close();
});

const wsBase = origin.replace('http', 'ws');

/** Resolves with the HTTP status of a refused handshake, or 101 once open (then closes it). */
function handshake(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}${path}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

function open(path: string, cookie = 'berth_session=bsess_good-session'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}${path}`, { headers: { origin, cookie } });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

const next = (ws: WebSocket) => new Promise<{ data: string; binary: boolean }>((resolve) => ws.once('message', (d: RawData, binary: boolean) => resolve({ data: d.toString(), binary })));
const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

t.test('stand-in orchestrator: paths and queries: only ours, validated, and only the parameters the orchestrator takes', async (t) => {
  t.same(routeFor('/ws/events', new URLSearchParams('tenant=acme&x=1')), { upstream: '/api/v1/events', query: new URLSearchParams('tenant=acme') });
  const term = routeFor('/ws/tenants/acme/terminal', new URLSearchParams('service=db&cols=120&rows=40&access_token=stolen'));
  t.equal(term && !(term instanceof Error) ? `${term.upstream}?${term.query}` : '', '/api/v1/tenants/acme/terminal?service=db&cols=120&rows=40', 'a smuggled access_token is dropped');
  const logs = routeFor('/ws/tenants/acme/logs', new URLSearchParams(''));
  t.equal(logs && !(logs instanceof Error) ? `${logs.upstream}?${logs.query}` : '', '/api/v1/tenants/acme/logs/ws?service=app');
  t.type(routeFor('/ws/tenants/..%2Fadmin/logs', new URLSearchParams()), Error);
  t.type(routeFor('/ws/tenants/Acme/logs', new URLSearchParams()), Error);
  t.type(routeFor('/ws/tenants/acme/logs', new URLSearchParams('service=app;rm')), Error);
  t.type(routeFor('/ws/tenants/acme/terminal', new URLSearchParams('cols=9999')), Error);
  t.equal(routeFor('/ws/other', new URLSearchParams()), undefined);
  t.equal(cookieValue('a=1; berth_session=bsess_x%2Fy; b=2', 'berth_session'), 'bsess_x/y');
  t.equal(cookieValue('a=1', 'berth_session'), undefined);
});

t.test('stand-in orchestrator: refused before dialling: another origin, no cookie, a bad slug, an unknown path', async (t) => {
  const before = upstream.seen.length;
  t.equal(await handshake('/ws/events', { origin: 'http://evil.example', cookie: 'berth_session=bsess_good-session' }), 403, 'cross-site page');
  t.equal(await handshake('/ws/events', { cookie: 'berth_session=bsess_good-session' }), 403, 'no Origin at all');
  t.equal(await handshake('/ws/events', { origin }), 401, 'no session cookie');
  t.equal(await handshake('/ws/tenants/NOPE/logs', { origin, cookie: 'berth_session=bsess_good-session' }), 400);
  t.equal(await handshake('/ws/nothing', { origin, cookie: 'berth_session=bsess_good-session' }), 404);
  t.equal(upstream.seen.length, before, 'the orchestrator was never asked');
});

t.test('stand-in orchestrator: the session goes upstream as a bearer header, never in the URL; frames pass both ways', async (t) => {
  const ws = await open('/ws/tenants/acme/terminal?service=app&cols=100&rows=30');
  const last = upstream.seen.at(-1)!;
  t.equal(last.authorization, 'Bearer bsess_good-session');
  t.equal(last.url, '/api/v1/tenants/acme/terminal?service=app&cols=100&rows=30');
  t.notMatch(last.url, /bsess|access_token/);
  ws.send(JSON.stringify({ type: 'input', data: 'ls\r' }));
  t.same(await next(ws), { data: 'echo:{"type":"input","data":"ls\\r"}', binary: false });
  ws.send(Buffer.from([0, 1, 2, 255]));
  const bin = await next(ws);
  t.equal(bin.binary, true, 'binary stays binary');
  ws.close();
});

t.test('stand-in orchestrator: closing one side closes the other', async (t) => {
  const a = await open('/ws/events');
  const server = upstream.sockets.at(-1)!;
  const upstreamClosed = closed(server);
  a.close(1000, 'bye');
  t.equal((await upstreamClosed).code, 1000, 'browser closed → upstream closed');

  const b = await open('/ws/events?tenant=acme');
  const browserClosed = closed(b);
  upstream.sockets.at(-1)!.close(4408, 'TERMINAL_IDLE');
  t.same(await browserClosed, { code: 4408, reason: 'TERMINAL_IDLE' }, 'upstream closed → browser closed with its code and reason');
  t.equal(proxy.connections(), 0);
});

t.test('stand-in orchestrator: a session the orchestrator refuses: the browser gets close code 4401 with the reason', async (t) => {
  const ws = await open('/ws/events', 'berth_session=bsess_expired-one');
  t.same(await closed(ws), { code: 4401, reason: 'the session is unknown or ended' });
});
