// The orchestrator itself supervises its nginx: a whole platform (its own
// database, nginx and home) with its loops running notices a master killed
// with SIGKILL, starts a new one and replays every route, and a team's host
// answers 200 again through it.
import t from 'tap';
import path from 'node:path';
import { runningMasterPid } from '../../src/proxy/nginx-control.js';
import { startTestPlatform } from '../helpers/platform.js';
import { testSlug } from '../helpers/docker.js';
import { request, running, startUpstream, until } from './fixtures/nginx.js';

t.test('a SIGKILLed nginx master is restarted by the orchestrator with every route', async (t) => {
  // No reconcile pass during the test: the stand-in team is not in the registry.
  const tp = await startTestPlatform('sup', { reconcileIntervalMs: 3_600_000 });
  t.teardown(() => tp.close());
  await tp.platform.startLoops();
  const app = await startUpstream(t, 'team');
  const slug = testSlug('sup');
  const host = `${slug}.${tp.config.baseDomain}`;
  await tp.platform.routes.setRoute(slug, { kind: 'up', port: app.port });
  t.equal((await request(tp.nginx.port, host)).status, 200);

  const pidFile = path.join(tp.nginx.prefix, 'nginx.pid');
  const old = (await runningMasterPid(pidFile))!;
  process.kill(old, 'SIGKILL');
  const killedAt = Date.now();
  await until(async () => !(await running(old)), 10_000, 'the old master to die');
  await until(async () => {
    const now = await runningMasterPid(pidFile);
    return now !== null && now !== old;
  }, 20_000, 'the orchestrator to start a new master');
  await until(async () => (await request(tp.nginx.port, host).then((r) => r.status, () => 0)) === 200, 20_000, `${host} to answer again`);
  t.comment(`${host} answered 200 again ${Date.now() - killedAt} ms after the SIGKILL`);
  const res = await request(tp.nginx.port, host);
  t.equal(res.body, 'hello from team\n');
  t.equal(res.headers['x-berth-route'], slug);
  t.match(await tp.platform.metrics.render(), /berth_nginx_restarts_total 1/);
  await tp.platform.routes.removeRoute(slug);
});
