// Per-team limits at the edge against a real nginx (Berth's main config with
// the Lua route table, own prefix, free loopback port): a team over its rate
// gets a 429 page with Retry-After while another team is served; a team over
// its requests in flight gets 429 until one ends; WebSocket upgrades pass
// both (handshakes draw on a rate bucket of their own, so a flood of them is
// limited too); the slot of a request that ended in the 503 page is given
// back; a bad limit in an entry is refused by nginx, naming the field, changing nothing.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { control } from '../../src/proxy/route-control.js';
import { openTunnel, request, startNginx, startUpstream, until } from './fixtures/nginx.js';

const DOMAIN = 'berth.test';
const host = (slug: string) => `${slug}.${DOMAIN}`;

/** An app that holds every request to /hold until release(), answers others at once, and upgrades to an echo tunnel. */
async function startHoldingApp(t: Test) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/hold') held.push(res);
    else res.end('quick\n');
  });
  const tunnels = new Set<net.Socket>();
  server.on('upgrade', (_req, socket: net.Socket) => {
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    for (const s of tunnels) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    held,
    release: () => held.splice(0).forEach((res) => res.end('released\n'))
  };
}

t.test('with nginx running', async (t) => {
  const nginx = await startNginx(t);
  const routes = nginx.routes({ baseDomain: DOMAIN });
  await routes.init();
  const app = await startUpstream(t, 'app');

  t.test('a team over its rate gets 429 with Retry-After; another team at the same time is served', async (t) => {
    // 1 request a minute with 2 of slack: 3 pass at once, the 4th is over
    // (the bucket drains one request a minute, far slower than this test).
    const slow = { ratePerMinute: 1, burst: 2, connections: 100 };
    await routes.setRoute('rata', { kind: 'up', port: app.port, limits: slow });
    await routes.setRoute('ratb', { kind: 'up', port: app.port, limits: slow });
    const started = performance.now();
    for (let i = 1; i <= 3; i++) t.equal((await request(nginx.port, host('rata'))).status, 200, `request ${i} within rate and burst`);
    const over = await request(nginx.port, host('rata'));
    t.comment(`4 requests in ${(performance.now() - started).toFixed(1)} ms`);
    t.equal(over.status, 429, 'over the rate');
    t.match(over.headers['content-type'], /^text\/html/);
    t.match(over.body, /<h1>Too many requests<\/h1>/);
    t.equal(over.headers['x-berth-route'], 'rata');
    const retry = Number(over.headers['retry-after']);
    t.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After is whole seconds until a request would pass: ${over.headers['retry-after']}`);
    t.equal((await request(nginx.port, host('ratb'))).status, 200, 'the other team, same limits, same moment: served');
    t.equal((await request(nginx.port, host('rata'))).status, 429, 'still over');

    const ws = await openTunnel(t, nginx.port, host('rata'));
    t.equal(ws.status, 101, 'a WebSocket upgrade passes while the team is over its rate');
    t.equal(await ws.echo('still talking'), 'still talking');
    ws.close();
    // Handshakes draw on a bucket of their own (same rate and burst): a flood
    // of GETs dressed as handshakes is limited too.
    const handshakes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await openTunnel(t, nginx.port, host('rata'));
      handshakes.push(w.status);
      w.close();
    }
    t.same(handshakes, [101, 101, 429], 'after the first handshake, two more fit the burst of 2; the next is refused');
    const forged = await request(nginx.port, host('rata'), { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    t.equal(forged.status, 429, 'a POST dressed as an upgrade is no handshake: still limited');

    await routes.setRoute('rata', { kind: 'up', port: app.port });
    t.equal((await request(nginx.port, host('rata'))).status, 200, 'no limits in the entry: served at once');
  });

  t.test('the bucket holds across workers: of 60 requests at once, exactly burst + 1 pass', async (t) => {
    // nginx runs worker_processes auto: concurrent connections land on
    // different workers, which share the bucket in berth_limits.
    await routes.setRoute('many', { kind: 'up', port: app.port, limits: { ratePerMinute: 1, burst: 19, connections: 1000 } });
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 60 }, () => request(nginx.port, host('many'))));
    t.comment(`60 requests at once in ${(performance.now() - started).toFixed(1)} ms`);
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    t.equal(count(200), 20, '20 served (the first, and 19 of burst)');
    t.equal(count(429), 40, 'the other 40 refused');
  });

  t.test('a team over its requests in flight gets 429; open WebSockets hold no slot; a slot is given back when its request ends', async (t) => {
    const holding = await startHoldingApp(t);
    await routes.setRoute('conc', { kind: 'up', port: holding.port, limits: { ratePerMinute: 600_000, burst: 1000, connections: 2 } });
    const tunnels = await Promise.all([1, 2, 3].map(() => openTunnel(t, nginx.port, host('conc'))));
    t.same(tunnels.map((w) => w.status), [101, 101, 101], 'three WebSockets open, more than the 2 slots');
    const first = [request(nginx.port, host('conc'), { path: '/hold' }), request(nginx.port, host('conc'), { path: '/hold' })];
    await until(() => holding.held.length === 2, 5000, 'two requests to be held by the app');
    const third = await request(nginx.port, host('conc'));
    t.equal(third.status, 429, 'a third request at once is refused');
    t.match(third.body, /Too many requests at once/);
    t.equal(third.headers['retry-after'], '1');
    t.equal((await openTunnel(t, nginx.port, host('conc'))).status, 101, 'a WebSocket upgrade still passes');
    holding.release();
    t.same((await Promise.all(first)).map((r) => r.status), [200, 200]);
    // The log phase gives the slot back right after the answer is sent.
    await until(async () => (await request(nginx.port, host('conc'))).status === 200, 5000, 'a slot to be free again');
    t.equal((await request(nginx.port, host('conc'))).status, 200, 'and again: the slots were given back');
    for (const w of tunnels) t.equal(await w.echo('ok'), 'ok', 'the WebSockets stayed open');
  });

  t.test('a request that ends in the 503 page (after error_page) gives its slot back', async (t) => {
    const gone = await startUpstream(t, 'gone');
    await gone.close();
    await routes.setRoute('dead', { kind: 'up', port: gone.port, limits: { ratePerMinute: 600_000, burst: 1000, connections: 1 } });
    for (let i = 1; i <= 3; i++) {
      const res = await request(nginx.port, host('dead'));
      t.equal(res.status, 503, `request ${i}: the not-answering page, never 429 (its slot came back)`);
    }
  });

  t.test('a body over the entry\'s size gets 413, under it passes, with limits in the entry', async (t) => {
    await routes.setRoute('body', { kind: 'up', port: app.port, maxBodySize: '2k', limits: { ratePerMinute: 60_000, burst: 100, connections: 10 } });
    const big = await request(nginx.port, host('body'), { method: 'POST', body: 'x'.repeat(4096) });
    t.equal(big.status, 413);
    t.match(big.body, /accepts request bodies up to 2048 bytes/);
    t.equal((await request(nginx.port, host('body'), { method: 'POST', body: 'x'.repeat(2048) })).status, 200);
  });

  t.test('a bad limit is refused by nginx naming the field, changing nothing', async (t) => {
    await routes.setRoute('keep', { kind: 'up', port: app.port, limits: { ratePerMinute: 60_000, burst: 100, connections: 10 } });
    const before = (await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body;
    // The file is written behind: settle it first, else a due write lands mid-test.
    await routes.flush();
    const fileBefore = await readFile(nginx.tableFile, 'utf8');
    const h = host('keep');
    const raw: Array<[string, RegExp]> = [
      [`${h} keep up 80 1024 abc 1 1`, /^ratePerMinute: /],
      [`${h} keep up 80 1024 0 1 1`, /^ratePerMinute: /],
      [`${h} keep up 80 1024 -5 1 1`, /^ratePerMinute: /],
      [`${h} keep up 80 1024 6000001 1 1`, /^ratePerMinute: /],
      [`${h} keep up 80 1024 ${'9'.repeat(400)} 1 1`, /^ratePerMinute: /],
      [`${h} keep up 80 1024 60 -1 1`, /^burst: /],
      [`${h} keep up 80 1024 60 007 1`, /^burst: /],
      [`${h} keep up 80 1024 60 1 0`, /^connections: /],
      [`${h} keep up 80 1024 60 1 1.5`, /^connections: /],
      [`${h} keep up 80 1024 60 1`, /^up: expected /],
      [`${h} keep up 80 1024 60 1 1 1`, /^up: expected /],
      [`${h} keep up 80 1024 60,1 1 1`, /^entry: /],
      [`${h} keep up 80 1024 60 1 1\n${host('evil')} evil up 22 1`, /^entry: /],
      [`${h} keep up 80 1024 60 1 ${'1'.repeat(1 << 20)}`, /^entry: longer than 512 bytes/]
    ];
    for (const [line, message] of raw) {
      const answer = await control(nginx.controlSocket, 'PUT', '/entries', line, 5000);
      t.equal(answer.status, 400, `refused: ${line.slice(0, 60)}`);
      t.match(answer.body, message, `names the field: ${answer.body.trim()}`);
    }
    t.equal((await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body, before, 'nginx holds exactly what it held');
    t.equal(await readFile(nginx.tableFile, 'utf8'), fileBefore, 'the table file is unchanged');
    t.equal((await request(nginx.port, h)).status, 200, 'the team is still served');
  });
});
