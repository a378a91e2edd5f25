// The route manager against a real nginx (Berth's main config with the Lua
// route table, own prefix, free loopback port) and real upstream apps: routes
// proxy and upgrade, each state answers its page, a sleeping team's request
// reaches the orchestrator's wake hand-off, bad entries are refused on both
// sides without touching anyone else's traffic, a keep-alive connection lives
// through route changes, and nginx's master is never reloaded or restarted.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { silentLogger } from '../../src/log.js';
import { startWakeServer } from '../../src/sleep/wake-server.js';
import { control } from '../../src/proxy/route-control.js';
import { DOWN_STATES, parseTable } from '../../src/proxy/route-entry.js';
import type { RouteManager } from '../../src/proxy/route-manager.js';
import { openTunnel, request, startNginx, startUpstream, type FixtureNginx } from './fixtures/nginx.js';

const DOMAIN = 'berth.test';
const host = (slug: string) => `${slug}.${DOMAIN}`;

export function managerFor(nginx: FixtureNginx, controlTimeoutMs?: number): RouteManager {
  return nginx.routes({ baseDomain: DOMAIN, controlTimeoutMs });
}

t.test('with nginx running', async (t) => {
  const nginx = await startNginx(t);
  const masterPid = await nginx.pid();
  const routes = managerFor(nginx);
  await routes.init();
  const app = await startUpstream(t, 'app-a');
  const other = await startUpstream(t, 'app-b');

  t.test('an up route proxies to the app, with forwarding headers, and upgrades to a WebSocket', async (t) => {
    await routes.setRoute('alpha', { kind: 'up', port: app.port });
    const res = await request(nginx.port, host('alpha'), { headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Berth-Wake': 'alpha' } });
    t.equal(res.status, 200);
    t.equal(res.body, 'hello from app-a\n');
    t.equal(res.headers['x-berth-route'], 'alpha', 'the route answered');
    t.equal(app.lastHeaders?.host, host('alpha'));
    t.equal(app.lastHeaders?.['x-forwarded-for'], '127.0.0.1', 'the peer address, not what the client claimed');
    t.equal(app.lastHeaders?.['x-real-ip'], '127.0.0.1');
    t.equal(app.lastHeaders?.['x-forwarded-proto'], 'http');
    t.equal(app.lastHeaders?.['x-berth-wake'], undefined, 'a client\'s X-Berth-Wake never reaches an app');

    const ws = await openTunnel(t, nginx.port, host('alpha'));
    t.equal(ws.status, 101, 'Switching Protocols passes through nginx');
    t.equal(await ws.echo('ping through nginx'), 'ping through nginx', 'bytes flow both ways through the tunnel');
    await routes.setRoute('alpha-two', { kind: 'up', port: app.port });
    await routes.setRoute('alpha', { kind: 'down', state: 'upgrading' });
    t.equal(await ws.echo('still there'), 'still there', 'the open WebSocket survives route changes');
    ws.close();
    await routes.setRoute('alpha', { kind: 'up', port: app.port });
    t.equal(await routes.isCurrent('alpha', { kind: 'up', port: app.port }), true);
    t.equal(await routes.isCurrent('alpha', { kind: 'up', port: app.port + 1 }), false, 'another port: stale');
    t.equal(await routes.isCurrent('nobody', { kind: 'up', port: app.port }), false, 'no entry: stale');
  });

  t.test('the request-size limit is the entry\'s: a larger Content-Length gets 413', async (t) => {
    await routes.setRoute('small', { kind: 'up', port: app.port, maxBodySize: '1k' });
    const res = await request(nginx.port, host('small'), { method: 'POST', body: 'x'.repeat(4096) });
    t.equal(res.status, 413);
    t.match(res.body, /accepts request bodies up to 1024 bytes/);
    t.equal((await request(nginx.port, host('small'), { method: 'POST', body: 'x'.repeat(512) })).status, 200);
    await routes.setRoute('roomy', { kind: 'up', port: app.port, maxBodySize: '1m' });
    t.equal((await request(nginx.port, host('roomy'), { method: 'POST', body: 'x'.repeat(4096) })).status, 200, 'another team, another limit');
  });

  t.test('an app that stopped listening gets the 503 page, never a 502', async (t) => {
    const gone = await startUpstream(t, 'app-gone');
    await routes.setRoute('gamma', { kind: 'up', port: gone.port });
    t.equal((await request(nginx.port, host('gamma'))).status, 200);
    await gone.close();
    const res = await request(nginx.port, host('gamma'));
    t.equal(res.status, 503);
    t.match(res.body, /This team's space is not answering/);
    t.match(res.headers['content-type'], /^text\/html/);
    t.equal(res.headers['x-berth-route'], 'gamma');
    t.equal(res.headers['retry-after'], '10');
  });

  t.test('every down state answers 503 naming the state, with Retry-After', async (t) => {
    for (const state of DOWN_STATES) {
      await routes.setRoute('delta', { kind: 'down', state });
      const res = await request(nginx.port, host('delta'), { path: '/some/page' });
      t.equal(res.status, 503, state);
      t.match(res.body, new RegExp(`This team's space is ${state}<`), state);
      t.match(res.headers['retry-after'], /^\d+$/, state);
      t.equal(res.headers['x-berth-route'], 'delta', state);
      t.equal(res.headers['cache-control'], 'no-store', state);
    }
    await routes.setRoute('delta', { kind: 'up', port: app.port });
    t.equal((await request(nginx.port, host('delta'))).status, 200, 'up again at once');
  });

  t.test('a sleeping team\'s request is held while the wake listener wakes it, then goes to its app', async (t) => {
    const asked: string[] = [];
    const wake = await startWakeServer(0, { ask: async (slug) => (asked.push(slug), { state: 'up', port: app.port }), holdMs: 1000, log: silentLogger });
    t.teardown(() => wake.close());
    await routes.setRoute('echo', { kind: 'sleeping', wake: `127.0.0.1:${wake.port}` });
    const res = await request(nginx.port, host('echo'), { method: 'POST', path: '/notes?x=1', body: 'hi', headers: { 'X-Berth-Wake': 'alpha' } });
    t.equal(res.status, 200, 'the app answered the held request');
    t.same(asked, ['echo'], 'the wake was asked for the team nginx found, not the one the client named');
    t.equal(app.lastHeaders?.host, host('echo'), 'with its Host');
    t.equal(app.lastHeaders?.['x-berth-wake'], undefined, 'no X-Berth-Wake reaches the app');
    await wake.close();
    const down = await request(nginx.port, host('echo'));
    t.equal(down.status, 503, 'wake listener not listening: a page at once');
    t.match(down.body, /waking up/);
  });

  t.test('a bad entry is refused by both sides, naming the field, and changes nothing else', async (t) => {
    const before = (await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body;
    await routes.flush();
    const fileBefore = await readFile(nginx.tableFile, 'utf8');
    await t.rejects(routes.setRoute('../../etc', { kind: 'up', port: 80 }), { code: 'ROUTE_INVALID', details: { field: 'slug' } });
    await t.rejects(routes.setRoute('x'.repeat(1 << 20), { kind: 'up', port: 80 }), { code: 'ROUTE_INVALID', details: { field: 'slug' } });
    await t.rejects(routes.setRoute('alpha', { kind: 'up', port: 70000 }), { code: 'ROUTE_INVALID', details: { field: 'port' } });
    await t.rejects(routes.setRoute('alpha', { kind: 'sideways' } as never), { code: 'ROUTE_INVALID', details: { field: 'kind' } });
    await t.rejects(routes.removeRoute('A'), { code: 'ROUTE_INVALID' });
    // Straight at nginx's control socket, as a buggy or hostile writer would.
    const raw: Array<[string, RegExp]> = [
      [`${host('alpha')} alpha up 70000 1024`, /^port: /],
      [`${host('alpha')} alpha up 0 1024`, /^port: /],
      [`${host('alpha')} alpha sideways 1`, /^kind: /],
      [`${host('alpha')} alpha down running`, /^state: /],
      [`${host('alpha')} al;pha up 80 1024`, /^entry: /],
      [`${host('alpha')} alpha up 80 1024\n${host('beta')} beta up 22 1`, /^entry: /],
      [`evil..host alpha up 80 1024`, /^host: /],
      [`${host('alpha')} ${'a'.repeat(40)} up 80 1024`, /^slug: /],
      [`${host('alpha')} alpha sleeping 10.0.0.1`, /^wake: /],
      ['x'.repeat(1 << 20), /^entry: longer than 512 bytes/]
    ];
    for (const [line, message] of raw) {
      const answer = await control(nginx.controlSocket, 'PUT', '/entries', line, 5000);
      t.equal(answer.status, 400, `refused: ${line.slice(0, 40)}`);
      t.match(answer.body, message, `names the field: ${answer.body.trim()}`);
    }
    t.equal((await control(nginx.controlSocket, 'PUT', '/table', 'berth-routes 1\nend 5 0\n', 5000)).status, 400, 'a bad bulk table too');
    t.equal((await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body, before, 'nginx holds exactly what it held');
    await routes.flush();
    t.equal(await readFile(nginx.tableFile, 'utf8'), fileBefore, 'the table file is unchanged');
    const res = await request(nginx.port, host('alpha'));
    t.equal(res.status, 200, 'another team\'s traffic is untouched');
    t.equal(res.body, 'hello from app-a\n');
  });

  t.test('a keep-alive connection keeps answering through route changes (up -> other port -> back)', async (t) => {
    await routes.setRoute('kilo', { kind: 'up', port: app.port });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const sockets = new Set<net.Socket>();
    let resets = 0;
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: nginx.port, path: '/', headers: { host: host('kilo') }, agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('socket', (s: net.Socket) => {
          if (!sockets.has(s)) s.on('error', () => resets++);
          sockets.add(s);
        });
        req.on('error', reject);
      });
    t.equal(await get(), 'hello from app-a\n');
    await routes.setRoute('kilo', { kind: 'up', port: other.port });
    t.equal(await get(), 'hello from app-b\n', 'the new port answers on the same connection');
    await routes.setRoute('kilo', { kind: 'up', port: app.port });
    t.equal(await get(), 'hello from app-a\n', 'and back');
    t.equal(sockets.size, 1, 'one socket for all three requests');
    t.equal(resets, 0, 'no reset');
  });

  t.test('removeRoute sends the host back to "No team lives at this address"', async (t) => {
    await routes.setRoute('foxtrot', { kind: 'up', port: app.port });
    t.ok((await routes.listRoutes()).includes('foxtrot'));
    await routes.removeRoute('foxtrot');
    const res = await request(nginx.port, host('foxtrot'));
    t.equal(res.status, 404);
    t.match(res.body, /No team lives at this address/);
    t.equal(res.headers['x-berth-route'], undefined);
    t.notOk((await routes.listRoutes()).includes('foxtrot'));
    await routes.removeRoute('foxtrot');
    t.pass('removing a missing route is a no-op that still succeeds');
  });

  t.test('every change is in the table file, which a new manager reads back', async (t) => {
    await routes.flush();
    const lines = parseTable(await readFile(nginx.tableFile, 'utf8'));
    t.same(lines, (await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body.split('\n').filter(Boolean), 'file and nginx agree');
    const again = managerFor(nginx);
    await again.init();
    t.equal(await again.isCurrent('alpha', { kind: 'up', port: app.port }), true);
    t.ok(routes.stats().changes > 10);
  });

  t.test('the nginx master served it all: never reloaded or restarted', async (t) => {
    t.equal(await nginx.pid(), masterPid);
    t.notMatch(await readFile(`${nginx.prefix}/logs/error.log`, 'utf8'), /signal 1 \(SIGHUP\)|reconfiguring/);
  });
});

t.test('with no nginx running, setRoute fails with PROXY_CONTROL_FAILED and changes nothing', async (t) => {
  const stopped = await startNginx(t, false);
  const idle = managerFor(stopped, 300);
  await t.rejects(idle.setRoute('alpha', { kind: 'up', port: 8080 }), { code: 'PROXY_CONTROL_FAILED', message: /did not answer PUT \/entries within 300 ms/ });
  await idle.flush();
  await t.rejects(readFile(stopped.tableFile), { code: 'ENOENT' }, 'no table written');
  t.equal(idle.stats().changes, 0);
  t.equal(idle.stats().failures, 1);
});
