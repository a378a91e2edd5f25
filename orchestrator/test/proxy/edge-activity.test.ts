// Activity from the edge against a real nginx (Berth's main config and Lua,
// own prefix, free loopback port) and real upstream apps: requests move a
// team's counters, answers >= 500 (the app's and Berth's own 503 pages) are
// errors, an open WebSocket counts 1 and then 0 once closed, a host no team
// owns is not counted, headers cannot move traffic onto another team, and the
// totals carry across an nginx restart without going backwards.
import t from 'tap';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/log.js';
import { runningMasterPid } from '../../src/proxy/nginx-control.js';
import { EdgeActivity, MAX_REPORT_BYTES, parseActivity } from '../../src/proxy/edge-activity.js';
import { control } from '../../src/proxy/route-control.js';
import { NGINX_BIN, openTunnel, request, startNginx, startUpstream, until, type TestNginx } from './fixtures/nginx.js';

const run = promisify(execFile);
const host = (slug: string) => `${slug}.berth.test`;

/** An app that answers GET /status/<code> with that status, and 200 otherwise. */
async function statusApp(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    const code = Number(/^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1] ?? 200);
    res.statusCode = code;
    res.end(`status ${code}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return (server.address() as net.AddressInfo).port;
}

async function restartNginx(nginx: TestNginx): Promise<void> {
  await nginx.stop();
  await run(NGINX_BIN, ['-p', `${nginx.prefix}/`, '-c', nginx.confFile]);
  await until(async () => ((await runningMasterPid(`${nginx.prefix}/nginx.pid`)) ?? 0) > 0, 10_000, 'the new nginx master');
}

t.test('with nginx running', async (t) => {
  const nginx = await startNginx(t);
  const routes = nginx.routes();
  await routes.init();
  const activity = new EdgeActivity({ controlSocket: nginx.controlSocket, log: silentLogger });
  const appPort = await statusApp(t);
  const echo = await startUpstream(t, 'echo');
  await routes.setRoute('act-a', { kind: 'up', port: appPort });
  await routes.setRoute('act-b', { kind: 'up', port: appPort });
  await routes.setRoute('act-down', { kind: 'down', state: 'stopped' });
  await routes.setRoute('act-ws', { kind: 'up', port: echo.port });
  /** Refreshes until `check` holds for what the module shows. */
  const settle = (what: string, check: () => boolean) => until(async () => (await activity.refresh(), check()), 10_000, what);

  t.test('requests move the counters; answers >= 500 are errors, Berth\'s own 503 pages included', async (t) => {
    const started = Date.now();
    for (let i = 0; i < 3; i++) t.equal((await request(nginx.port, host('act-a'))).status, 200);
    t.equal((await request(nginx.port, host('act-a'), { path: '/status/500' })).status, 500);
    t.equal((await request(nginx.port, host('act-a'), { path: '/status/404' })).status, 404);
    t.equal((await request(nginx.port, host('act-down'))).status, 503, 'a stopped team answers its page');
    await settle('act-a to show 5 requests', () => activity.activity('act-a').requests === 5);
    await settle('act-down to show 1 request', () => activity.activity('act-down').requests === 1);
    const a = activity.activity('act-a');
    t.equal(a.errors, 1, 'the 500 is an error, the 404 is not');
    t.equal(a.openWebSockets, 0);
    t.ok(a.lastRequestAt && a.lastRequestAt.getTime() >= started - 1000 && a.lastRequestAt.getTime() <= Date.now() + 1000, 'the last request is now');
    t.same(activity.activity('act-down'), { ...activity.activity('act-down'), requests: 1, errors: 1 }, 'the down page (503) is an error');
    t.same(activity.activity('act-b'), { lastRequestAt: null, requests: 0, errors: 0, openWebSockets: 0 }, 'another team saw nothing');
    const view = activity.view('act-a');
    t.equal(view?.requests, 5);
    t.equal(view?.lastRequestAt, a.lastRequestAt!.toISOString());
    t.ok(view?.readAt, 'the view says when nginx was read');
  });

  t.test('an app that does not answer: Berth\'s 503 page (a named location) is counted as an error', async (t) => {
    const gone = await startUpstream(t, 'gone');
    await routes.setRoute('act-gone', { kind: 'up', port: gone.port });
    await gone.close();
    t.equal((await request(nginx.port, host('act-gone'))).status, 503);
    await settle('act-gone to show 1 request', () => activity.activity('act-gone').requests === 1);
    t.equal(activity.activity('act-gone').errors, 1);
  });

  t.test('a host no team owns is not counted, and headers cannot move traffic onto another team', async (t) => {
    const before = parseActivity((await rawReport(nginx)).body);
    t.equal((await request(nginx.port, 'nobody.berth.test')).status, 404);
    t.equal((await request(nginx.port, 'nobody.berth.test', { path: '/__berth/healthz' })).status, 200);
    const forged = { 'X-Berth-Route': 'act-b', 'X-Berth-Slug': 'act-b', 'X-Forwarded-Host': host('act-b'), 'X-Berth-Wake': 'act-b' };
    t.equal((await request(nginx.port, host('act-a'), { headers: forged })).status, 200);
    t.equal((await request(nginx.port, 'nobody.berth.test', { headers: forged })).status, 404);
    await settle('act-a to show the forged request', () => activity.activity('act-a').requests === 6);
    const after = parseActivity((await rawReport(nginx)).body);
    t.same(after.lines.map((l) => l.slug).sort(), before.lines.map((l) => l.slug).sort(), 'no new team appeared (no "nobody")');
    t.same(activity.activity('act-b'), { lastRequestAt: null, requests: 0, errors: 0, openWebSockets: 0 }, 'act-b was not charged');
  });

  t.test('an open WebSocket counts 1, then 0 once it is closed; its request counts when it ends', async (t) => {
    const ws = await openTunnel(t, nginx.port, host('act-ws'));
    t.equal(ws.status, 101);
    t.equal(await ws.echo('hi'), 'hi');
    await settle('act-ws to show one open WebSocket', () => activity.activity('act-ws').openWebSockets === 1);
    t.equal(activity.activity('act-ws').requests, 0, 'still open: not ended yet');
    const second = await openTunnel(t, nginx.port, host('act-ws'));
    await settle('two open WebSockets', () => activity.activity('act-ws').openWebSockets === 2);
    ws.close();
    await settle('one closed', () => activity.activity('act-ws').openWebSockets === 1);
    second.close();
    await settle('none open', () => activity.activity('act-ws').openWebSockets === 0);
    t.equal(activity.activity('act-ws').requests, 2, 'both upgraded requests counted once they ended');
    t.equal(activity.activity('act-ws').errors, 0);
  });

  t.test('a deleted route takes its counters along: a new team with the slug starts from 0', async (t) => {
    await routes.setRoute('act-gone2', { kind: 'up', port: appPort });
    t.equal((await request(nginx.port, host('act-gone2'))).status, 200);
    await settle('act-gone2 counted', () => activity.activity('act-gone2').requests === 1);
    await routes.removeRoute('act-gone2');
    await settle('act-gone2 forgotten', () => activity.activity('act-gone2').requests === 0);
    t.notOk(parseActivity((await rawReport(nginx)).body).lines.some((l) => l.slug === 'act-gone2'), 'nginx dropped its keys');
    t.equal(activity.activity('act-a').requests, 6, 'another team keeps its counts');
    await routes.setRoute('act-gone2', { kind: 'up', port: appPort });
    t.equal((await request(nginx.port, host('act-gone2'))).status, 200);
    await settle('the new act-gone2 counted', () => activity.activity('act-gone2').requests === 1);
    t.equal(activity.activity('act-gone2').requests, 1, 'from 0, not from the old team\'s count');
  });

  t.test('an nginx restart: counters start again in nginx, the totals carry on and the last request does not go back', async (t) => {
    await activity.refresh();
    const before = activity.activity('act-a');
    await restartNginx(nginx);
    // The restarted nginx loaded the routes from the table file.
    t.equal((await request(nginx.port, host('act-a'))).status, 200);
    await settle('act-a to count on from its old total', () => activity.activity('act-a').requests === before.requests + 1);
    const raw = parseActivity((await rawReport(nginx)).body).lines.find((l) => l.slug === 'act-a');
    t.equal(raw?.requests, 1, 'nginx itself counts from 0 again');
    t.equal(activity.activity('act-a').errors, before.errors, 'errors carried');
    t.ok(activity.activity('act-a').lastRequestAt!.getTime() >= before.lastRequestAt!.getTime(), 'the last request time did not go back');
    t.same(activity.activity('act-b'), { lastRequestAt: null, requests: 0, errors: 0, openWebSockets: 0 });
    t.equal(activity.activity('act-down').requests, 1, 'a team with no traffic since keeps its total');
    await activity.refresh();
    t.equal(activity.activity('act-down').requests, 1, 'and keeps it at the next read (absent from nginx, but not deleted)');
  });
});

function rawReport(nginx: TestNginx) {
  return control(nginx.controlSocket, 'GET', '/activity', undefined, 2000);
}

t.test('the report parser caps lengths before any pattern and refuses what is not a count', async (t) => {
  const ok = parseActivity('berth-activity 1 1700000000000-42\nteam-a 1700000000123 10 2 1\n');
  t.same(ok, { boot: '1700000000000-42', lines: [{ slug: 'team-a', lastRequestMs: 1700000000123, requests: 10, errors: 2, openWebSockets: 1 }], refused: [] });
  t.throws(() => parseActivity('nonsense\n'), /line 1 is not/);
  t.throws(() => parseActivity(`berth-activity 1 ${'1'.repeat(41)}\n`), /line 1 is not/, 'a long boot stamp');
  t.throws(() => parseActivity('berth-activity 1 1\n' + 'x'.repeat(MAX_REPORT_BYTES)), /longer than/, 'a report over the cap');
  const bad = parseActivity([
    'berth-activity 1 5-1',
    `team-a ${'9'.repeat(1024 * 1024)} 1 1 1`,
    'Team-B 1 1 1 1',
    'team--c 1 1 1 1',
    'team-d 1 1 1',
    'team-e 1 -1 1 1',
    'team-f 1 1 1 1 1',
    'team-g 1 1e3 1 1',
    `${'a'.repeat(33)} 1 1 1 1`,
    'team-h 1 2 3 4',
    ''
  ].join('\n'));
  t.same(bad.lines.map((l) => l.slug), ['team-h'], 'only the good line is taken');
  t.equal(bad.refused.length, 8);
  t.match(bad.refused[0], /line 2: longer than 128/);
});
