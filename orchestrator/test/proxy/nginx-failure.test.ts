// nginx failing under Berth, for real: the master killed with SIGKILL is
// noticed and restarted by the supervisor with every route back (its orphaned
// workers stopped first); a corrupt table file is refused at start, naming
// why, and the last good one serves instead.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import { socketHolders, startMaster } from '../../src/proxy/nginx-control.js';
import { NginxSupervisor } from '../../src/proxy/nginx-supervisor.js';
import { NGINX_BIN, request, running, startNginx, startUpstream, until, type FixtureNginx, type TestNginx } from './fixtures/nginx.js';

const DOMAIN = 'berth.test';
const host = (slug: string) => `${slug}.${DOMAIN}`;
const managerFor = (nginx: FixtureNginx) => nginx.routes({ baseDomain: DOMAIN });
const status = (nginx: TestNginx, slug: string) => request(nginx.port, host(slug)).then((r) => r.status, () => 0);

t.test('a SIGKILLed nginx master is restarted by the supervisor with every route', async (t) => {
  const nginx = await startNginx(t);
  const app = await startUpstream(t, 'team');
  const routes = managerFor(nginx);
  await routes.init();
  await routes.setRoute('alpha', { kind: 'up', port: app.port });
  await routes.setRoute('bravo', { kind: 'down', state: 'stopped' });
  const supervisor = new NginxSupervisor({
    target: { bin: NGINX_BIN, prefix: nginx.prefix, confFile: nginx.confFile },
    pidFile: path.join(nginx.prefix, 'nginx.pid'),
    controlSocket: nginx.controlSocket,
    log: silentLogger,
    restore: () => routes.restore(),
    intervalMs: 100
  });
  await supervisor.check();
  supervisor.start();
  t.teardown(() => supervisor.stop());

  const old = await nginx.pid();
  const workers = await socketHolders(nginx.controlSocket);
  t.ok(workers.length >= 1, `the workers hold the control socket (${workers.join(', ')})`);
  const killedAt = Date.now();
  process.kill(old, 'SIGKILL');
  await until(async () => !(await running(old)), 10_000, 'the old master to die');
  await until(async () => (await nginx.pid()) !== old && supervisor.restarts === 1, 15_000, 'the supervisor to start a new master');
  await until(async () => (await status(nginx, 'alpha')) === 200, 15_000, 'alpha to answer through the new master');
  t.comment(`back ${Date.now() - killedAt} ms after the SIGKILL`);
  const res = await request(nginx.port, host('alpha'));
  t.equal(res.body, 'hello from team\n');
  t.equal((await request(nginx.port, host('bravo'))).status, 503, 'the down route is back too');
  for (const pid of workers) t.notOk(await running(pid), `orphaned worker ${pid} stopped`);
  const now = await socketHolders(nginx.controlSocket);
  t.ok(now.length >= 1 && now.every((pid) => !workers.includes(pid)), 'only the new master\'s workers hold the socket');
  // And routes keep changing through the new master.
  await routes.setRoute('charlie', { kind: 'up', port: app.port });
  t.equal(await status(nginx, 'charlie'), 200);
});

t.test('a corrupt table file is refused at start with a clear error; the last good one serves', async (t) => {
  const nginx = await startNginx(t);
  const app = await startUpstream(t, 'team');
  const routes = managerFor(nginx);
  await routes.init();
  await routes.setRoute('alpha', { kind: 'up', port: app.port });
  await routes.flush();
  await routes.setRoute('bravo', { kind: 'up', port: app.port });
  await routes.flush(); // the table now holds both; its last good copy, alpha only
  await nginx.stop();

  for (const [what, corrupt] of [
    ['a flipped digit', (text: string) => text.replace(`up ${app.port}`, `up ${app.port === 65535 ? 1 : app.port + 1}`)],
    ['a cut-off file', (text: string) => text.slice(0, text.length - 30)],
    ['1 MB of garbage', () => 'x'.repeat(1 << 20)]
  ] as const) {
    const good = await readFile(nginx.tableFile, 'utf8');
    await writeFile(nginx.tableFile, corrupt(good));
    const started = await startMaster({ bin: NGINX_BIN, prefix: nginx.prefix, confFile: nginx.confFile });
    t.ok(started.ok, `${what}: nginx still starts (${started.output})`);
    await until(async () => (await status(nginx, 'alpha')) === 200, 10_000, `${what}: alpha from the last good table`);
    t.equal(await status(nginx, 'bravo'), 404, `${what}: bravo was not in the last good table`);
    const log = await readFile(path.join(nginx.prefix, 'logs/error.log'), 'utf8');
    t.match(log, new RegExp(`berth: route table ${nginx.tableFile.replaceAll('.', '\\.')} refused \\(corrupt\\): (trailer|last line|line 1)`), `${what}: error.log says which file and why`);
    t.match(log, /routes\.table\.last-good loaded/, `${what}: and that the last good one was loaded`);

    // The orchestrator's side refuses it too, and starts from the last good table.
    const errors: unknown[] = [];
    const log2 = { ...silentLogger, error: (o: unknown, m?: string) => void errors.push([o, m]) } as typeof silentLogger;
    const fresh = nginx.routes({ baseDomain: DOMAIN, log: log2 });
    await fresh.init();
    t.match(errors, [[{ refused: /routes\.table: / }, /route table refused \(corrupt\); using .*last-good/]], `${what}: the orchestrator logs it`);
    t.equal(await fresh.isCurrent('alpha', { kind: 'up', port: app.port }), true);
    t.notOk((await fresh.listRoutes()).includes('bravo'));
    await nginx.stop();
    await writeFile(nginx.tableFile, good);
  }
});
