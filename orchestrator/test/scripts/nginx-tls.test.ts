// scripts/nginx-up with TLS (scripts/nginx-edge), on its own prefix and free
// ports, never the host's 80/443: local-ca makes a CA once (key 0600) and a
// certificate curl verifies; re-runs reuse both and re-issue a certificate
// near its end; a missing key, a certificate for other names, a key of another
// certificate and a hostile host-name setting are refused naming the setting
// and the file, and the running nginx keeps serving its old configuration.
import t from 'tap';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';
import { curl } from '../helpers/curl.js';
import { freePort, running } from '../helpers/nginx.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);
const nginxUp = path.join(ROOT_DIR, 'scripts/nginx-up');
type Failure = { code: number; stderr: string };

const home = await mkdtemp(path.join(os.tmpdir(), 'berth-tls-'));
const port = await freePort();
const httpsPort = await freePort();
const tls = path.join(home, 'tls');
const conf = path.join(home, 'nginx/conf');
const base = { ...process.env, BERTH_HOME: home, BERTH_HTTP_PORT: String(port), BERTH_HTTPS_PORT: String(httpsPort), BERTH_TLS_MODE: 'local-ca' };
let master = 0;
t.teardown(async () => {
  if (master && (await running(master))) {
    process.kill(master, 'SIGQUIT');
    await until(async () => !(await running(master)), 10_000, 'nginx to stop');
  }
  await rm(home, { recursive: true, force: true });
});

const up = (env: NodeJS.ProcessEnv) => run('bash', [nginxUp], { env });
const refused = async (env: NodeJS.ProcessEnv) => (await up(env).then(() => ({ code: 0, stderr: 'it ran' }), (e: Failure) => e));
const served = () => curl(`https://nobody.berth.localhost:${httpsPort}/`, { cacert: path.join(tls, 'ca.crt') });
const snapshot = async () => Promise.all(['nginx.conf', 'edge-listen.conf', 'edge-servers.conf'].map((f) => readFile(path.join(conf, f), 'utf8')));

t.test('local-ca: a CA of its own (key root-only), a certificate curl verifies, HSTS, HTTP redirected', async (t) => {
  const first = await up(base);
  t.match(first.stderr, /made a local CA: trust .*ca\.crt/);
  t.notMatch(first.stderr, /PRIVATE KEY/, 'no key in the output');
  master = Number(await readFile(path.join(home, 'nginx/nginx.pid'), 'utf8'));
  t.equal((await stat(tls)).mode & 0o777, 0o700);
  t.equal((await stat(path.join(tls, 'ca.key'))).mode & 0o777, 0o600, 'the CA key is root\'s alone');
  t.equal((await stat(path.join(tls, 'edge.key'))).mode & 0o777, 0o600);
  const res = await until(async () => (await served().catch(() => undefined)), 10_000, 'HTTPS to answer');
  t.equal(res.status, 404, 'no team there, but the TLS handshake verified');
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  const plain = await curl(`http://nobody.berth.localhost:${port}/x`);
  t.equal(plain.status, 308);
  t.equal(plain.headers.location, `https://nobody.berth.localhost:${httpsPort}/x`);
});

t.test('re-runs reuse the CA and the certificate; one near its end is issued again', async (t) => {
  const ca = await readFile(path.join(tls, 'ca.crt'), 'utf8');
  const leaf = await readFile(path.join(tls, 'edge.crt'), 'utf8');
  const again = await up(base);
  t.match(again.stderr, /nginx reloaded/);
  t.equal(await readFile(path.join(tls, 'ca.crt'), 'utf8'), ca, 'same CA');
  t.equal(await readFile(path.join(tls, 'edge.crt'), 'utf8'), leaf, 'same certificate');
  // The same CA issues one with 10 days left: below the 30 days nginx-edge keeps.
  await run('bash', ['-c', `openssl req -new -key edge.key -subj /CN=short | openssl x509 -req -CA ca.crt -CAkey ca.key -days 10 -out edge.crt 2>/dev/null`], { cwd: tls });
  const renewed = await up(base);
  t.match(renewed.stderr, /issued the edge certificate/);
  t.equal(await readFile(path.join(tls, 'ca.crt'), 'utf8'), ca, 'still the same CA');
  await run('openssl', ['x509', '-in', path.join(tls, 'edge.crt'), '-noout', '-checkend', String(60 * 86400)]);
  t.pass('the new certificate has more than 60 days left');
});

t.test('cert mode: bad certificates and keys are refused by name, and the old configuration keeps serving', async (t) => {
  const before = await snapshot();
  const other = path.join(home, 'other');
  await run('mkdir', ['-p', other]);
  // A self-signed certificate for names that are not Berth's.
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=other.example',
    '-addext', 'subjectAltName=DNS:other.example', '-keyout', path.join(other, 'o.key'), '-out', path.join(other, 'o.crt')]);
  const cert = { ...base, BERTH_TLS_MODE: 'cert', BERTH_TLS_CERT: path.join(tls, 'edge.crt'), BERTH_TLS_KEY: path.join(tls, 'edge.key') };
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['a missing key', { ...cert, BERTH_TLS_KEY: path.join(other, 'absent.key') }, /BERTH_TLS_KEY: \S+absent\.key does not exist/],
    ['no key at all', { ...cert, BERTH_TLS_KEY: '' }, /BERTH_TLS_MODE=cert needs BERTH_TLS_KEY/],
    ['a certificate for other names', { ...cert, BERTH_TLS_CERT: path.join(other, 'o.crt'), BERTH_TLS_KEY: path.join(other, 'o.key') },
      /BERTH_TLS_CERT: \S+o\.crt is not for berth-tls-check\.berth\.localhost \(it must cover \*\.berth\.localhost/],
    ['the key of another certificate', { ...cert, BERTH_TLS_KEY: path.join(other, 'o.key') }, /BERTH_TLS_KEY: \S+o\.key is not the key of the certificate in BERTH_TLS_CERT/],
    ['a key file that is no key', { ...cert, BERTH_TLS_KEY: path.join(tls, 'ca.crt') }, /BERTH_TLS_KEY: \S+ca\.crt is not a PEM private key/],
    ['a console host that would inject configuration', { ...base, BERTH_CONSOLE_HOST: 'x.example; include /etc/passwd' }, /BERTH_CONSOLE_HOST must be a lowercase DNS name .*got 'x\.example; include/],
    ['a 100 KB API host', { ...base, BERTH_API_PUBLIC_HOST: 'a'.repeat(100_000) }, /BERTH_API_PUBLIC_HOST must be a DNS name of at most 253 characters, got 100000 characters/],
    ['an unknown mode', { ...base, BERTH_TLS_MODE: 'maybe' }, /BERTH_TLS_MODE must be one of off, local-ca, cert, got 'maybe'/]
  ];
  for (const [what, env, message] of cases) {
    const res = await refused(env);
    t.equal(res.code, 1, what);
    t.match(res.stderr, message, what);
    t.same(await snapshot(), before, `${what}: configuration untouched`);
  }
  t.equal((await served()).status, 404, 'nginx still serves HTTPS with its old certificate');
  t.equal(await readFile(path.join(home, 'nginx/nginx.pid'), 'utf8').then(Number), master, 'and was never restarted');
});

t.test('cert mode with a good pair (the operator\'s files) serves it', async (t) => {
  const res = await up({ ...base, BERTH_TLS_MODE: 'cert', BERTH_TLS_CERT: path.join(tls, 'edge.crt'), BERTH_TLS_KEY: path.join(tls, 'edge.key') });
  t.match(res.stderr, /nginx reloaded/);
  t.match(await readFile(path.join(conf, 'edge-servers.conf'), 'utf8'), /# BERTH_TLS_MODE=cert/);
  t.equal((await served()).status, 404);
});
