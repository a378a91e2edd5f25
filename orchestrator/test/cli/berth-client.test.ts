// scripts/berth on its own: help, argument checks and exit codes, and how it
// copes with an API that is down, drops its event stream or is not Berth's.
// No orchestrator here: berth-cli.test.ts runs it against a real one.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { berth, closedPort, oneErrorLine } from '../helpers/berth-cli.js';

t.test('--help on every level exits 0 without a token or an API', async (t) => {
  const env = { BERTH_TOKEN: undefined, BERTH_URL: `http://127.0.0.1:${await closedPort()}` };
  const levels = [
    ['--help'], ['-h'], ['tenant', '--help'], ['token', '-h'],
    ...['create', 'list', 'status', 'start', 'stop', 'restart', 'delete', 'logs', 'owner-link'].map((c) => ['tenant', c, '--help']),
    ...['create', 'list', 'revoke'].map((c) => ['token', c, '--help']),
    ['upgrade', '--help'], ['upgrade', '--to', '1.0.0', '--help'], ['versions', '--help'], ['capacity', '--help'],
    ...['preview', 'list', 'status', 'approve', 'pause', 'resume', 'cancel', 'rollback'].map((c) => ['upgrade', c, '--help']),
    ['admin', '--help'], ['admin', 'token', '--help'], ['admin', 'operator', '--help'],
    ...['create', 'list', 'revoke'].map((c) => ['admin', 'token', c, '--help']), ['admin', 'operator', 'bootstrap', '--help']
  ];
  for (const args of levels) {
    const run = await berth(args, env);
    t.equal(run.code, 0, `berth ${args.join(' ')}`);
    t.match(run.stdout, /^Usage: berth/, `berth ${args.join(' ')} prints usage`);
  }
  const top = await berth(['--help'], env);
  for (const code of [0, 1, 2, 3, 4, 5]) t.match(top.stdout, new RegExp(`\\n  ${code}  \\S`), `exit code ${code} documented`);
  for (const command of ['tenant', 'upgrade', 'versions', 'capacity', 'token', 'admin token', 'admin operator']) {
    t.match(top.stdout, new RegExp(`\\n  berth ${command} `), `berth --help lists berth ${command}`);
  }
});

t.test('usage errors exit 2 before any API call', async (t) => {
  const env = { BERTH_TOKEN: 'berth_000000000000_x', BERTH_URL: `http://127.0.0.1:${await closedPort()}` };
  const noToken = await berth(['tenant', 'list'], { ...env, BERTH_TOKEN: undefined });
  t.equal(noToken.code, 2, 'missing BERTH_TOKEN');
  oneErrorLine(t, noToken, 'NO_TOKEN');
  t.match(noToken.stderr, /BERTH_TOKEN is not set.*token create --name NAME --scope/, 'says how to get one');

  const cases: [string[], RegExp][] = [
    [['tenant', 'list', '--bogus'], /unknown flag --bogus/],
    [['tenant', 'create'], /missing <slug>/],
    [['tenant', 'status', 'a', 'b'], /unexpected argument "b"/],
    [['tenant', 'logs', 'acme', '--tail', 'ten'], /--tail must be a whole number/],
    [['tenant', 'create', 'acme', '--plan'], /--plan needs a value/],
    [['tenant', 'stop', 'acme', '--timeout', '5'], /--timeout only makes sense with --wait/],
    [['tenant', 'stop', 'acme', '--wait', '--timeout=soon'], /--timeout must be a whole number/],
    [['token', 'create', '--name', 'ci', '--scope', 'root'], /--scope must be read, write or admin/],
    [['token', 'revoke'], /missing <id>/],
    [['tenant', 'frobnicate'], /unknown tenant command/],
    [['deploy'], /unknown command "deploy"/]
  ];
  for (const [args, message] of cases) {
    const run = await berth(args, env);
    t.equal(run.code, 2, `berth ${args.join(' ')}`);
    oneErrorLine(t, run, 'USAGE');
    t.match(run.stderr, message);
  }
});

t.test('an API that does not answer: exit 3', async (t) => {
  const run = await berth(['tenant', 'list'], { BERTH_TOKEN: 'berth_000000000000_x', BERTH_URL: `http://127.0.0.1:${await closedPort()}` });
  t.equal(run.code, 3);
  oneErrorLine(t, run, 'UNREACHABLE');
});

t.test('against a stand-in API: a broken event stream, answers that are not the API\'s', async (t) => {
  // What a real orchestrator will not do on cue: drop the event stream mid-operation
  // (a restart), or answer through a proxy's HTML error page.
  let streams = 0;
  const sse = (seq: number, type: string, data: object) =>
    `id: ${seq}\r\nevent: ${type}\r\ndata: ${JSON.stringify({ seq, type, operation: 'op-1', data })}\r\n\r\n`;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(202, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ operation: { id: 'op-1' } }));
    }
    if (req.url?.startsWith('/api/v1/events/stream?operation=op-1')) {
      streams++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      res.write(sse(1, 'operation.started', { kind: 'restart' }));
      res.write(sse(2, 'operation.step', { kind: 'restart', step: 'app:stopping' }));
      // First connection: cut off in the middle of an event.
      if (streams === 1) return res.end(sse(3, 'operation.step', { kind: 'restart', step: 'db:stopping' }).slice(0, 25));
      res.write(sse(3, 'operation.step', { kind: 'restart', step: 'db:stopping' }));
      return res.end(sse(4, 'operation.succeeded', { kind: 'restart', phase: 'running', seconds: 1.5 }));
    }
    if (req.url === '/api/v1/tenants') {
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end('<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>\n');
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>a login page</html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const env = { BERTH_URL: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, BERTH_TOKEN: 'berth_000000000000_x' };

  const run = await berth(['tenant', 'restart', 'acme', '--wait'], env);
  t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
  t.equal(streams, 2, 'reconnected once');
  t.same(run.stderr.split('\n').filter((l) => l.startsWith('  ')), ['  app:stopping', '  db:stopping'], 'each step once, despite the replay');

  const proxy = await berth(['tenant', 'list'], env);
  t.equal(proxy.code, 1);
  oneErrorLine(t, proxy, 'HTTP_502');
  t.match(proxy.stderr, /502 Bad Gateway/);
  const html = await berth(['tenant', 'status', 'acme'], env);
  t.equal(html.code, 1);
  oneErrorLine(t, html, 'BAD_RESPONSE');
});

t.test('an https API: NODE_EXTRA_CA_CERTS is still trusted though the launcher keeps it from slowing Node\'s start', async (t) => {
  // A CA and a server certificate for 127.0.0.1, made here with openssl.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cli-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth test CA');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
  const server = https.createServer({ key: await readFile(path.join(dir, 'server.key')), cert: await readFile(path.join(dir, 'server.pem')) }, (req, res) => {
    res.writeHead(req.url === '/api/v1/tenants' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/api/v1/tenants' ? { tenants: [] } : { error: { code: 'NOT_FOUND', message: 'no' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const env = { BERTH_URL: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`, BERTH_TOKEN: 'berth_000000000000_x' };

  const trusted = await berth(['tenant', 'list', '--json'], { ...env, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') });
  t.equal(trusted.code, 0, 'the CA in NODE_EXTRA_CA_CERTS is trusted', { stderr: trusted.stderr });
  t.same(JSON.parse(trusted.stdout), { tenants: [] }, 'and the answer is read');

  const untrusted = await berth(['tenant', 'list'], { ...env, NODE_EXTRA_CA_CERTS: undefined });
  t.equal(untrusted.code, 3, 'without it the certificate is refused');
  oneErrorLine(t, untrusted, 'UNREACHABLE');

  const missing = await berth(['tenant', 'list'], { ...env, NODE_EXTRA_CA_CERTS: path.join(dir, 'absent.pem') });
  t.equal(missing.code, 2, 'an unreadable CA file is a usage error');
  oneErrorLine(t, missing, 'BAD_CA_FILE');
  t.match(missing.stderr, /absent\.pem.*NODE_EXTRA_CA_CERTS/, 'naming the file and the variable');

  // Node itself would warn at start about an unreadable NODE_EXTRA_CA_CERTS:
  // silence over plain http shows the launcher kept the file from Node.
  const plain = await berth(['tenant', 'list'], { BERTH_URL: `http://127.0.0.1:${await closedPort()}`, BERTH_TOKEN: 'berth_000000000000_x', NODE_EXTRA_CA_CERTS: path.join(dir, 'absent.pem') });
  t.equal(plain.code, 3);
  oneErrorLine(t, plain, 'UNREACHABLE');
});
