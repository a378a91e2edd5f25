// The route manager against a real nginx (Berth's main config, own prefix,
// free loopback port) and a real upstream app: routes proxy and upgrade, an
// unreachable app and a down tenant get a 503 page, bursts share one reload,
// a broken route is refused while the others keep serving, and the master
// process is only ever reloaded, never restarted.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { testConfig } from '../../src/proxy/nginx-control.js';
import { RouteManager } from '../../src/proxy/route-manager.js';
import { NGINX_BIN, freePort, openTunnel, request, startNginx, startUpstream, type TestNginx } from './fixtures/nginx.js';

const DOMAIN = 'berth.test';
const host = (slug: string) => `${slug}.${DOMAIN}`;

function managerFor(nginx: TestNginx): RouteManager {
  return new RouteManager({
    nginxBin: NGINX_BIN,
    prefix: nginx.prefix,
    confFile: nginx.confFile,
    routesDir: nginx.routesDir,
    httpPort: nginx.port,
    baseDomain: DOMAIN,
    log: silentLogger
  });
}

// One nginx for every subtest below, so the last one can show that the same
// master served them all: reloads, never a restart.
t.test('with nginx running', async (t) => {
  const nginx = await startNginx(t, t.testdir({}));
  const masterPid = await nginx.pid();
  const routes = managerFor(nginx);
  const app = await startUpstream(t, 'app-a');
  const diskPasses = async () => (await testConfig({ bin: NGINX_BIN, prefix: nginx.prefix, confFile: nginx.confFile })).ok;

  t.test('an up route proxies to the app, with forwarding headers, and upgrades to a WebSocket', async (t) => {
    await routes.setRoute('alpha', { kind: 'up', port: app.port });
    const res = await request(nginx.port, host('alpha'), { headers: { 'X-Forwarded-For': '6.6.6.6' } });
    t.equal(res.status, 200);
    t.equal(res.body, 'hello from app-a\n');
    t.equal(res.headers['x-berth-route'], 'alpha', 'the route answered, not the default server');
    t.equal(app.lastHeaders?.host, host('alpha'));
    t.equal(app.lastHeaders?.['x-forwarded-for'], '127.0.0.1', 'the peer address, not what the client claimed');
    t.equal(app.lastHeaders?.['x-real-ip'], '127.0.0.1');
    t.equal(app.lastHeaders?.['x-forwarded-proto'], 'http');

    const ws = await openTunnel(t, nginx.port, host('alpha'));
    t.equal(ws.status, 101, 'Switching Protocols passes through nginx');
    t.equal(await ws.echo('ping through nginx'), 'ping through nginx', 'bytes flow both ways through the tunnel');
    // A reload leaves the open tunnel to its old worker (worker_shutdown_timeout
    // bounds it), and setRoute does not wait for that worker to exit.
    const started = Date.now();
    await routes.setRoute('alpha-two', { kind: 'up', port: app.port });
    t.ok(Date.now() - started < 2000, 'setRoute did not wait for the busy old worker');
    t.equal(await ws.echo('still there'), 'still there', 'the open WebSocket survives the reload');
    ws.close();

    t.equal(await routes.isCurrent('alpha', { kind: 'up', port: app.port }), true);
    t.equal(await routes.isCurrent('alpha', { kind: 'up', port: app.port + 1 }), false, 'another port: stale');
    t.equal(await routes.isCurrent('nobody', { kind: 'up', port: app.port }), false, 'no file: stale');
    t.match(await routes.routeFor('alpha'), /server_name alpha\.berth\.test;/);
    t.equal(await routes.routeFor('nobody'), null);
  });

  t.test('the request-size limit comes from the options', async (t) => {
    await routes.setRoute('small', { kind: 'up', port: app.port, maxBodySize: '1k' });
    const res = await request(nginx.port, host('small'), { method: 'POST', body: 'x'.repeat(4096) });
    t.equal(res.status, 413);
    t.equal((await request(nginx.port, host('small'), { method: 'POST', body: 'x'.repeat(512) })).status, 200);
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

  t.test('a down route answers 503 naming the state, with Retry-After', async (t) => {
    for (const state of ['stopped', 'provisioning'] as const) {
      await routes.setRoute('delta', { kind: 'down', state });
      const res = await request(nginx.port, host('delta'), { path: '/some/page' });
      t.equal(res.status, 503, state);
      t.match(res.body, new RegExp(`This team's space is ${state}`), state);
      t.match(res.headers['retry-after'], /^\d+$/, state);
      t.equal(res.headers['x-berth-route'], 'delta', state);
    }
    // up -> down -> up: each change serves as soon as setRoute resolves.
    await routes.setRoute('delta', { kind: 'up', port: app.port });
    t.equal((await request(nginx.port, host('delta'))).status, 200);
  });

  t.test('a burst of 20 changes shares one nginx -t and one reload, and all 20 answer', async (t) => {
    const before = routes.stats();
    const slugs = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    await Promise.all(slugs.map((slug) => routes.setRoute(slug, { kind: 'up', port: app.port })));
    const after = routes.stats();
    t.equal(after.reloads - before.reloads, 1, 'exactly one reload');
    t.equal(after.reloadFailures, before.reloadFailures);
    t.ok(after.lastReloadMs > 0 && after.totalReloadMs >= before.totalReloadMs + after.lastReloadMs - 0.001, 'timings recorded');
    const answers = await Promise.all(slugs.map((slug) => request(nginx.port, host(slug))));
    t.same(answers.map((a) => [a.status, a.headers['x-berth-route']]), slugs.map((slug) => [200, slug]));
    t.same((await routes.listRoutes()).filter((s) => s.startsWith('burst-')).length, 20);

    // Two changes of one slug in one window: the last one wins, both callers resolve.
    await Promise.all([routes.setRoute('hotel', { kind: 'down', state: 'stopped' }), routes.setRoute('hotel', { kind: 'up', port: app.port })]);
    t.equal((await request(nginx.port, host('hotel'))).status, 200);
  });

  t.test('a route nginx refuses is rejected; the previous file comes back byte for byte; the others keep serving', async (t) => {
    await routes.setRoute('bravo', { kind: 'down', state: 'stopped' });
    const file = path.join(nginx.routesDir, 'bravo.conf');
    const good = await readFile(file);
    // Valid syntax that nginx -t still refuses: the main config owns default_server.
    const broken = `server {\n  listen ${nginx.port} default_server;\n  server_name bravo.${DOMAIN};\n}\n`;
    const before = routes.stats();

    const alone = await routes.applyRaw('bravo', broken).then(() => undefined, (e: unknown) => e);
    t.type(alone, BerthError);
    t.match(alone, { code: 'ROUTE_INVALID', message: /bravo.*duplicate default server/s, details: { slug: 'bravo' } });
    t.same(await readFile(file), good, 'previous file restored byte for byte');
    t.ok(await diskPasses(), 'nginx -t passes on disk');
    t.equal((await request(nginx.port, host('alpha'))).status, 200, 'tenant alpha keeps serving');
    t.equal((await request(nginx.port, host('bravo'))).status, 503, 'bravo keeps its previous route');

    // The same bad change in a batch with good ones: the good ones land, in one reload.
    const [a, b, c] = await Promise.allSettled([
      routes.setRoute('alpha', { kind: 'down', state: 'upgrading' }),
      routes.applyRaw('bravo', broken),
      routes.setRoute('charlie', { kind: 'up', port: app.port })
    ]);
    t.equal(a.status, 'fulfilled');
    t.match(b, { status: 'rejected', reason: { code: 'ROUTE_INVALID' } });
    t.equal(c.status, 'fulfilled');
    t.same(await readFile(file), good, 'bravo restored again');
    t.match((await request(nginx.port, host('alpha'))).body, /space is upgrading/, 'alpha changed');
    t.equal((await request(nginx.port, host('charlie'))).status, 200, 'charlie (new) serves');
    t.ok(await diskPasses(), 'nginx -t passes on disk');
    const after = routes.stats();
    t.equal(after.reloads - before.reloads, 1, 'one reload for the good changes of the mixed batch');
    t.equal(after.reloadFailures - before.reloadFailures, 2, 'each refused batch counted');

    // A refused new route leaves no file behind.
    const fresh = await routes.applyRaw('echo', 'server { bogus_directive on; }\n').then(() => undefined, (e: unknown) => e);
    t.match(fresh, { code: 'ROUTE_INVALID', message: /unknown directive "bogus_directive"/ });
    t.equal(await routes.routeFor('echo'), null);
    t.ok(await diskPasses());
    await routes.setRoute('alpha', { kind: 'up', port: app.port });
  });

  t.test('removeRoute sends the host back to the default server', async (t) => {
    await routes.setRoute('foxtrot', { kind: 'up', port: app.port });
    t.ok((await routes.listRoutes()).includes('foxtrot'));
    await routes.removeRoute('foxtrot');
    const res = await request(nginx.port, host('foxtrot'));
    t.equal(res.status, 404);
    t.match(res.body, /No team lives at this address/);
    t.equal(res.headers['x-berth-route'], undefined);
    t.notOk((await routes.listRoutes()).includes('foxtrot'));
    t.equal(await routes.routeFor('foxtrot'), null);
    await routes.removeRoute('foxtrot');
    t.pass('removing a missing route is a no-op that still succeeds');
  });

  t.test('bad slugs are refused before any path is built', async (t) => {
    await t.rejects(routes.setRoute('../../etc', { kind: 'up', port: 80 }), { code: 'ROUTE_INVALID' });
    await t.rejects(routes.routeFor('../x'), { code: 'ROUTE_INVALID' });
    await t.rejects(routes.removeRoute('A'), { code: 'ROUTE_INVALID' });
  });

  t.test('resync tests and reloads with no change', async (t) => {
    const before = routes.stats().reloads;
    await routes.resync();
    t.equal(routes.stats().reloads, before + 1);
  });

  t.test('the nginx master was reloaded throughout, never restarted', async (t) => {
    t.equal(await nginx.pid(), masterPid);
    t.ok(routes.stats().reloads >= 8);
  });
});

t.test('with no nginx running, setRoute fails with PROXY_RELOAD_FAILED and writes nothing', async (t) => {
  const stopped = await startNginx(t, t.testdir({}), false);
  const idle = managerFor(stopped);
  await t.rejects(idle.setRoute('alpha', { kind: 'up', port: await freePort() }), {
    code: 'PROXY_RELOAD_FAILED',
    message: /route for alpha not applied: nginx is not running/
  });
  t.same(await idle.listRoutes(), []);
  t.equal(idle.stats().reloads, 0);
});
