// Pure building blocks: secrets at rest, the operation limiter, port
// allocation, metrics text, slugs, configuration.
import t from 'tap';
import net from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Metrics } from '../../src/api/metrics.js';
import { loadConfig } from '../../src/config/config.js';
import { loadPlatformKey, SecretBox } from '../../src/crypto/secret-box.js';
import { OperationLimiter } from '../../src/tenants/op-limiter.js';
import { allocatePort } from '../../src/tenants/port-allocator.js';
import { assertValidSlug } from '../../src/contract/reserved.js';

t.test('secrets: sealed values open only with the same key and tenant', async (t) => {
  const key = Buffer.alloc(32, 7);
  const box = new SecretBox(key);
  const sealed = box.seal({ STORAGE_KEY: 'hunter2-very-secret' }, 'acme');
  t.notMatch(JSON.stringify(sealed), /hunter2/, 'ciphertext does not contain the plain text');
  t.same(box.open(sealed, 'acme'), { STORAGE_KEY: 'hunter2-very-secret' });
  t.throws(() => box.open(sealed, 'other'), 'copied onto another tenant it does not open');
  t.throws(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'acme'), 'another key does not open it');
  t.not(box.seal({ a: 1 }, 'x').iv, box.seal({ a: 1 }, 'x').iv, 'fresh nonce each time');
  t.throws(() => new SecretBox(Buffer.alloc(32, 9)).open(sealed, 'acme'), { code: 'CONFIG_INVALID', message: /sealed with another platform key/ });
  t.equal(box.derive('acme', 'NEW'), box.derive('acme', 'NEW'), 'a derived secret is stable');
  t.not(box.derive('acme', 'NEW'), box.derive('other', 'NEW'), 'and differs per tenant');
  t.match(box.derive('acme', 'NEW'), /^[A-Za-z0-9_-]{32}$/);
});

t.test('platform key: made once with mode 0600, then reused; env wins', async (t) => {
  const home = t.testdir({});
  const first = await loadPlatformKey(home);
  t.equal(first.length, 32);
  t.equal((await stat(path.join(home, 'platform.key'))).mode & 0o777, 0o600);
  t.same(await loadPlatformKey(home), first, 'same key on the next start');
  t.same(await loadPlatformKey(home, 'ab'.repeat(32)), Buffer.from('ab'.repeat(32), 'hex'));
  t.equal((await readFile(path.join(home, 'platform.key'), 'utf8')).length, 64);
});

t.test('the limiter runs at most N at once, in order', async (t) => {
  const limiter = new OperationLimiter(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = [0, 1, 2, 3, 4].map((i) =>
    limiter.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      order.push(i);
      running--;
    })
  );
  while (order.length < 5) {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  }
  await Promise.all(tasks);
  t.equal(peak, 2);
  t.same(order, [0, 1, 2, 3, 4]);
});

t.test('ports: the lowest free one, skipping recorded and bound ports', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const held = (holder.address() as net.AddressInfo).port;
  t.teardown(() => new Promise((resolve) => holder.close(resolve)));
  t.equal(await allocatePort({ from: held, to: held + 5 }, new Set([held + 1])), held + 2, 'bound and recorded ports skipped');
  await t.rejects(allocatePort({ from: held, to: held }, new Set()), { code: 'PORT_EXHAUSTED' });
});

t.test('metrics render as Prometheus text', async (t) => {
  const m = new Metrics();
  m.inc('berth_x_total', 'X', { kind: 'a"b' });
  m.inc('berth_x_total', 'X', { kind: 'a"b' });
  m.observe('berth_d_seconds', 'D', { kind: 'create' }, 1.5);
  m.gauge('berth_g', 'G', async () => [[{ phase: 'running' }, 3]]);
  const text = await m.render();
  t.match(text, '# TYPE berth_x_total counter\nberth_x_total{kind="a\\"b"} 2');
  t.match(text, 'berth_d_seconds_sum{kind="create"} 1.5\n');
  t.match(text, 'berth_d_seconds_count{kind="create"} 1\n');
  t.match(text, '# TYPE berth_g gauge\nberth_g{phase="running"} 3');
});

t.test('histograms render as Prometheus text: cumulative buckets, +Inf, _sum, _count', async (t) => {
  const m = new Metrics();
  const h = m.histogram('berth_w_seconds', 'W', [0.1, 1, 10]);
  t.equal(m.histogram('berth_w_seconds', 'W', [5]), h, 'asked again by name: the same histogram');
  t.match(await m.render(), '# HELP berth_w_seconds W\n# TYPE berth_w_seconds histogram\n', 'declared before any observation');
  h.observe({ from: 'frozen', outcome: 'ok' }, 0.05);
  h.observe({ from: 'frozen', outcome: 'ok' }, 1);
  h.observe({ from: 'frozen', outcome: 'ok' }, 42);
  h.observe({ outcome: 'failed', from: 'sleeping' }, 3);
  const text = await m.render();
  t.match(text, [
    'berth_w_seconds_bucket{from="frozen",outcome="ok",le="0.1"} 1',
    'berth_w_seconds_bucket{from="frozen",outcome="ok",le="1"} 2',
    'berth_w_seconds_bucket{from="frozen",outcome="ok",le="10"} 2',
    'berth_w_seconds_bucket{from="frozen",outcome="ok",le="+Inf"} 3',
    'berth_w_seconds_sum{from="frozen",outcome="ok"} 43.05',
    'berth_w_seconds_count{from="frozen",outcome="ok"} 3'
  ].join('\n'), 'a value on a bound counts in that bucket; one above every bound only in +Inf');
  t.match(text, 'berth_w_seconds_bucket{from="sleeping",outcome="failed",le="1"} 0\nberth_w_seconds_bucket{from="sleeping",outcome="failed",le="10"} 1', 'labels in one order whatever order they came in');
  t.throws(() => m.histogram('berth_bad', 'B', [1, 1]), /strictly increasing/, 'buckets must increase');
  t.throws(() => m.histogram('berth_bad2', 'B', []), /strictly increasing/, 'and exist');
});

t.test('slugs: valid, invalid, reserved', async (t) => {
  t.doesNotThrow(() => assertValidSlug('acme-team-2'));
  t.throws(() => assertValidSlug('www'), { code: 'SLUG_RESERVED' });
  t.throws(() => assertValidSlug('berth-x'), { code: 'SLUG_RESERVED' });
  t.throws(() => assertValidSlug('a--b'), { code: 'SLUG_INVALID' });
});

t.test('configuration: bad values are refused by name', async (t) => {
  t.throws(() => loadConfig({ BERTH_PORT_RANGE: '30000-20000' }), { code: 'CONFIG_INVALID', message: /BERTH_PORT_RANGE/ });
  t.throws(() => loadConfig({ BERTH_API_PORT: 'eighty' }), { code: 'CONFIG_INVALID', message: /BERTH_API_PORT must be an integer/ });
  t.throws(() => loadConfig({ BERTH_PLATFORM_KEY: 'short' }), { code: 'CONFIG_INVALID', message: /64 hex/ });
  t.throws(() => loadConfig({ BERTH_SMTP_URL: 'mail.example.com' }), { code: 'CONFIG_INVALID', message: /BERTH_SMTP_URL must look like smtp:/ });
  t.throws(() => loadConfig({ BERTH_PLATFORM_DB_CONTAINER: 'berth.demo.db' }), { code: 'CONFIG_INVALID', message: /BERTH_PLATFORM_DB_CONTAINER must be 1-63 letters, digits, _ and - \(no dot\)/ }, 'a dotted name could be a tenant\'s');
  t.throws(() => loadConfig({ BERTH_PLATFORM_DB_CONTAINER: 'x'.repeat(1 << 20) }), { code: 'CONFIG_INVALID', message: /BERTH_PLATFORM_DB_CONTAINER/ });
  t.throws(() => loadConfig({ BERTH_MAIL_RELAY_PER_HOUR: '0' }), { code: 'CONFIG_INVALID', message: /BERTH_MAIL_RELAY_PER_HOUR must be an integer from 1/ });
  t.same(loadConfig({}).start, { cpus: 2, probeIntervalMs: 50 }, 'a starting service: 2 CPUs, probed every 50 ms');
  t.equal(loadConfig({ BERTH_START_CPUS: '1.5' }).start.cpus, 1.5);
  for (const bad of ['0', '-1', 'two', '1e3', '2.', '']) {
    t.throws(() => loadConfig({ BERTH_START_CPUS: bad }), { code: 'CONFIG_INVALID', message: /BERTH_START_CPUS/ }, `BERTH_START_CPUS "${bad}" refused`);
  }
  t.throws(() => loadConfig({ BERTH_START_PROBE_INTERVAL_MS: '5' }), { code: 'CONFIG_INVALID', message: /BERTH_START_PROBE_INTERVAL_MS must be an integer from 10/ });
  t.same(loadConfig({}).mailRelay, { smtpUrl: '', from: 'Berth <no-reply@berth.localhost>', port: 2525, perHour: 50 }, 'no mail by default');
  const c = loadConfig({ BERTH_HTTP_PORT: '8080', BERTH_HOME: '/srv/berth' });
  t.equal(c.nginx.httpPort, 8080);
  t.equal(c.nginx.controlSocket, '/srv/berth/nginx/control/control.sock');
  t.equal(c.nginx.tableFile, '/srv/berth/nginx/control/routes.table');
});
