// scripts/docker-up and scripts/nginx-up are idempotent, refuse clearly what
// they cannot do, and never restart what runs. nginx runs here on its own
// prefix and a free port, apart from any platform nginx.
import t from 'tap';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';
import { RouteTableFile } from '../../src/proxy/route-table-file.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { freePort, running } from '../helpers/nginx.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);
const script = (name: string) => path.join(ROOT_DIR, 'scripts', name);

t.test('docker-up: a second run finds the engine and keeps the operator\'s daemon.json settings', async (t) => {
  const dir = t.testdir({ 'daemon.json': JSON.stringify({ debug: true, 'live-restore': false }) });
  const file = path.join(dir, 'daemon.json');
  const { stderr } = await run('bash', [script('docker-up')], { env: { ...process.env, BERTH_DOCKER_DAEMON_JSON: file } });
  t.match(stderr, /Docker engine .* is running/);
  const merged = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  t.equal(merged.debug, true, 'operator setting kept');
  t.equal(merged['live-restore'], false, 'operator choice wins over Berth\'s default');
  t.same(merged['default-address-pools'], [{ base: '10.213.0.0/16', size: 28 }], 'small pools added');

  await writeFile(file, '{ not json');
  const bad = await run('bash', [script('docker-up')], { env: { ...process.env, BERTH_DOCKER_DAEMON_JSON: file } }).catch((e: { stderr: string; code: number }) => e);
  t.match((bad as { stderr: string }).stderr, /daemon\.json is not valid JSON .*fix or remove it/);
});

t.test('docker-up: BERTH-INPUT stays first in INPUT, once, rejecting the tenant pool except the mail relay port', async (t) => {
  const iptables = async (...args: string[]) => (await run('iptables', args)).stdout.trim().split('\n');
  // A harmless rule (TEST-NET-1 source) put ahead of the hook: the next run must move the hook back to the top.
  const decoy = ['INPUT', '-s', '192.0.2.254/32', '-p', 'tcp', '--dport', '9', '-j', 'RETURN'];
  await run('iptables', ['-I', ...decoy.slice(0, 1), '1', ...decoy.slice(1)]);
  t.teardown(() => run('iptables', ['-D', ...decoy]).catch(() => {}));
  const { stderr } = await run('bash', [script('docker-up')]);
  t.match(stderr, /firewall: tenant pools 10\.213\.0\.0\/16 reach this host only on tcp\/2525/);
  await run('bash', [script('docker-up')]);
  const input = await iptables('-S', 'INPUT');
  t.equal(input[1], '-A INPUT -j BERTH-INPUT', 'the hook is the first rule');
  t.equal(input.filter((r) => r === '-A INPUT -j BERTH-INPUT').length, 1, 'and there is one');
  t.same(await iptables('-S', 'BERTH-INPUT'), [
    '-N BERTH-INPUT',
    '-A BERTH-INPUT -i lo -j RETURN',
    '-A BERTH-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A BERTH-INPUT -s 10.213.0.0/16 -p tcp -m tcp --dport 2525 -j RETURN',
    '-A BERTH-INPUT -s 10.213.0.0/16 -p tcp -j REJECT --reject-with tcp-reset',
    '-A BERTH-INPUT -s 10.213.0.0/16 -j REJECT --reject-with icmp-port-unreachable'
  ], 'the chain, rebuilt whole on every run');

  const bad = await run('bash', [script('docker-up')], { env: { ...process.env, BERTH_MAIL_RELAY_PORT: '70000' } }).catch((e: { stderr: string; code: number }) => e);
  t.equal((bad as { code: number }).code, 1);
  t.match((bad as { stderr: string }).stderr, /BERTH_MAIL_RELAY_PORT must be a port number \(1-65535\), got "70000"/);
  t.equal((await iptables('-S', 'BERTH-INPUT')).length, 6, 'a refused setting leaves the chain as it was');
});

t.test('scripts refuse to run without root, saying so', async (t) => {
  for (const name of ['docker-up', 'nginx-up', 'platform-up']) {
    const res = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script(name)]).catch((e: { stderr: string; code: number }) => e);
    t.equal((res as { code: number }).code, 1, name);
    t.match((res as { stderr: string }).stderr, /needs root/, name);
  }
});

t.test('nginx-up: starts on its own prefix, then reloads without restarting; a bad config is refused and the old one kept', async (t) => {
  // Under /tmp: the control socket's path must fit a unix socket's 107 bytes.
  const home = await mkdtemp(path.join(os.tmpdir(), 'berth-ngx-'));
  const port = await freePort();
  const env = { ...process.env, BERTH_HOME: home, BERTH_HTTP_PORT: String(port) };
  const pidFile = path.join(home, 'nginx/nginx.pid');
  let master = 0;
  // By pid, not pid file: t.testdir's own teardown may remove the prefix first.
  t.teardown(async () => {
    if (master && (await running(master))) process.kill(master, 'SIGQUIT');
    await rm(home, { recursive: true, force: true });
  });

  const first = await run('bash', [script('nginx-up')], { env });
  t.match(first.stderr, /nginx started/);
  const pid = await readFile(pidFile, 'utf8');
  master = Number(pid);
  const answer = await httpGet(`http://127.0.0.1:${port}/`, 5000, { host: 'nobody.berth.localhost' });
  t.equal(answer.status, 404);
  t.match(answer.body, /No team lives at this address/);

  const control = path.join(home, 'nginx/control');
  t.equal((await stat(control)).mode & 0o777, 0o700, 'the control socket\'s directory is root\'s alone');
  // mkdtemp made the home 0700, as the platform key's writer makes /var/lib/berth: workers must still reach tmp/ to buffer an upload.
  t.equal((await stat(home)).mode & 0o777, 0o711, 'the home: traverse only for others');
  const writable = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-w', path.join(home, 'nginx/tmp/body')]).then(() => 0, (e: { code: number }) => e.code);
  t.equal(writable, 0, 'a worker (nobody) may write request bodies under tmp/body');
  t.ok((await stat(path.join(control, 'control.sock'))).isSocket(), 'nginx listens on the control socket');
  // A route in the table file (as the orchestrator writes it): a reload loads it.
  await new RouteTableFile(path.join(control, 'routes.table')).write([`team-a.berth.localhost team-a down stopped`]);

  const second = await run('bash', [script('nginx-up')], { env });
  t.match(second.stderr, /nginx reloaded/);
  t.equal(await readFile(pidFile, 'utf8'), pid, 'same master process: reloaded, not restarted');
  // The master applies a reload a moment after the signal.
  const routed = await until(async () => {
    const a = await httpGet(`http://127.0.0.1:${port}/`, 5000, { host: 'team-a.berth.localhost' });
    return a.status === 503 ? a : undefined;
  }, 10_000, 'the reloaded table to serve team-a');
  t.equal(routed.status, 503, 'the table\'s route serves');
  t.match(routed.body, /team-a is stopped|space is stopped/);

  const conf = path.join(home, 'nginx/conf/nginx.conf');
  const good = await readFile(conf, 'utf8');
  const bad = await run('bash', [script('nginx-up')], { env: { ...env, BERTH_HTTP_PORT: '70000' } }).catch((e: { stderr: string; code: number }) => e);
  t.equal((bad as { code: number }).code, 1);
  t.match((bad as { stderr: string }).stderr, /BERTH_HTTP_PORT must be a port number/);
  t.equal(await readFile(conf, 'utf8'), good, 'config untouched');
  t.equal((await httpGet(`http://127.0.0.1:${port}/__berth/healthz`, 5000)).status, 200, 'still serving');
});

t.test('every script answers --help', async (t) => {
  for (const name of ['docker-up', 'nginx-up', 'nginx-edge', 'build-images', 'platform-up', 'test']) {
    const { stdout } = await run('bash', [script(name), '--help']);
    t.match(stdout, /^Usage: scripts\//, name);
  }
});
