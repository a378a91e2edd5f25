// scripts/berth, the CI-facing bash CLI, run as a real child process against a
// real orchestrator listening on a TCP port (the same as production: curl and
// jq over HTTP, server-sent events for --wait), with real containers and nginx.
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';

const script = fileURLToPath(new URL('../../../scripts/berth', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every stdout and stderr the CLI produced, to prove where tokens appear. */
const outputs: string[] = [];

function berth(args: string[], env: Record<string, string | undefined>, timeoutMs = 240_000): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env: childEnv, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      outputs.push(stdout, stderr);
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The error line: stderr must be exactly one line "berth: CODE: message". */
function oneErrorLine(t: Test, run: Run, code: string): void {
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  t.match(lines[0], new RegExp(`^berth: ${code}: \\S`), `it names ${code}`);
}

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listen(tp: TestPlatform): Promise<string> {
  await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(tp.platform.app.server.address() as net.AddressInfo).port}`;
}

/** The command lines of every process mentioning `needle` (read from /proc). */
async function commandLinesWith(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) found.push(cmdline.replace(/\0/g, ' '));
  }
  return found;
}

t.test('--help on every level exits 0 without a token or an API', async (t) => {
  const env = { BERTH_TOKEN: undefined, BERTH_URL: `http://127.0.0.1:${await closedPort()}` };
  const levels = [
    ['--help'], ['-h'], ['tenant', '--help'], ['token', '-h'],
    ...['create', 'list', 'status', 'start', 'stop', 'restart', 'delete', 'logs'].map((c) => ['tenant', c, '--help']),
    ...['create', 'list', 'revoke'].map((c) => ['token', c, '--help'])
  ];
  for (const args of levels) {
    const run = await berth(args, env);
    t.equal(run.code, 0, `berth ${args.join(' ')}`);
    t.match(run.stdout, /^Usage: berth/, `berth ${args.join(' ')} prints usage`);
  }
  const top = await berth(['--help'], env);
  for (const code of [0, 1, 2, 3, 4, 5]) t.match(top.stdout, new RegExp(`\\n  ${code}  \\S`), `exit code ${code} documented`);
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

t.test('against a real orchestrator', async (t) => {
  const tp = await startTestPlatform('cli');
  t.teardown(() => tp.close());
  const url = await listen(tp);
  const admin = { BERTH_URL: url, BERTH_TOKEN: tp.token };
  const slug = testSlug('cli');
  const get = async (s: string) => tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${s}`, headers: { authorization: `Bearer ${tp.token}` } });

  t.test('tenant create --wait: every step on stderr, exit 0, running', async (t) => {
    const run = await berth(['tenant', 'create', slug, '--name', 'CLI Test', '--plan', 'starter', '--wait'], admin);
    t.equal(run.code, 0, run.stderr);
    t.equal(run.stdout, '', 'nothing on stdout');
    const steps = run.stderr.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    t.same(steps, ['network', 'volumes', 'db:starting', 'db:healthy', 'storage:starting', 'storage:healthy', 'app:starting', 'app:healthy', 'route']);
    t.match(run.stderr, /\nsucceeded in [\d.]+s: running\n$/);
    const tenant = (await get(slug)).json();
    t.equal(tenant.phase, 'running');
    t.equal(tenant.displayName, 'CLI Test');
  });

  t.test('tenant status --json parses; status and list are readable', async (t) => {
    const json = await berth(['tenant', 'status', slug, '--json'], admin);
    t.equal(json.code, 0);
    t.match(JSON.parse(json.stdout), { slug, phase: 'running', services: { db: 'running', storage: 'running', app: 'running' } });
    const human = await berth(['tenant', 'status', slug], admin);
    t.match(human.stdout, /^phase: +running \(desired: running\)$/m);

    const list = await berth(['tenant', 'list'], admin);
    t.equal(list.code, 0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    t.match(header, /^SLUG +PHASE +HEALTH +VERSION +PLAN +URL$/);
    const row = rows.find((r) => r.startsWith(`${slug} `));
    t.ok(row, 'the tenant has a row');
    for (const [column, value] of [['PHASE', 'running'], ['PLAN', 'starter'], ['URL', 'http://']] as const) {
      t.equal(row!.indexOf(` ${value}`) + 1, header!.indexOf(column), `${column} column aligned`);
    }
    const listJson = JSON.parse((await berth(['tenant', 'list', '--json'], admin)).stdout);
    t.ok(listJson.tenants.some((x: { slug: string }) => x.slug === slug), 'list --json is the API JSON');
  });

  t.test('an API error: exit 1, its code and message on one line', async (t) => {
    const bad = await berth(['tenant', 'create', 'Bad_Slug!'], admin);
    t.equal(bad.code, 1);
    oneErrorLine(t, bad, 'SLUG_INVALID');
    const missing = await berth(['tenant', 'status', 'tnobody-here'], admin);
    t.equal(missing.code, 1);
    oneErrorLine(t, missing, 'TENANT_NOT_FOUND');
    const traversal = await berth(['tenant', 'status', '../tokens'], admin);
    t.equal(traversal.code, 1, 'a slug cannot reach another route');
    t.notMatch(traversal.stdout, /test-admin/);
  });

  t.test('tenant logs --tail prints lines', async (t) => {
    const run = await berth(['tenant', 'logs', slug, '--service', 'app', '--tail', '5'], admin);
    t.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    t.ok(lines.length >= 1 && lines.length <= 5, `1-5 lines: ${lines.length}`);
    t.match(run.stdout, /Listening on/);
  });

  t.test('tenant logs --follow streams until killed, leaving nothing behind; the token is on no command line', async (t) => {
    const child = spawn('bash', [script, 'tenant', 'logs', slug, '--follow', '--tail', '5'], { env: { ...process.env, ...admin } });
    let stdout = '';
    const firstLine = new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => (stdout += chunk) && stdout.includes('\n') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await firstLine;
    const port = new URL(url).port;
    const running = await commandLinesWith(`127.0.0.1:${port}`);
    t.ok(running.some((c) => c.startsWith('curl ')), 'curl is streaming');
    t.notOk(running.some((c) => c.includes(tp.token)), 'the token is in no process\'s argv');
    child.kill('SIGTERM');
    t.equal(await exited, 143, 'stopped by the signal');
    t.match(stdout, /Listening on/);
    t.same((await commandLinesWith(`127.0.0.1:${port}`)).filter((c) => c.startsWith('curl ')), [], 'no curl left streaming');
  });

  t.test('tenant stop --wait: exit 0 and stopped', async (t) => {
    const run = await berth(['tenant', 'stop', slug, '--wait'], admin);
    t.equal(run.code, 0, run.stderr);
    t.match(run.stderr, /^ {2}app:stopping$/m);
    t.equal((await get(slug)).json().phase, 'stopped');
  });

  t.test('tenant start without --wait prints the operation id', async (t) => {
    const run = await berth(['tenant', 'start', slug], admin);
    t.equal(run.code, 0, run.stderr);
    t.match(run.stdout, /^[0-9a-f-]{36}\n$/);
    const waited = await berth(['tenant', 'restart', slug, '--wait'], admin);
    t.equal(waited.code, 1, 'a second operation while one runs is refused before any wait');
    oneErrorLine(t, waited, 'OPERATION_CONFLICT');
    await until(async () => (await get(slug)).json().phase === 'running', 120_000, 'the start to finish');
  });

  t.test('tenant delete --delete-data: refused without a terminal, done with --yes', async (t) => {
    const refused = await berth(['tenant', 'delete', slug, '--delete-data', '--wait'], admin);
    t.equal(refused.code, 2);
    oneErrorLine(t, refused, 'CONFIRMATION_REQUIRED');
    t.equal((await get(slug)).statusCode, 200, 'nothing deleted');

    const run = await berth(['tenant', 'delete', slug, '--delete-data', '--yes', '--wait'], admin);
    t.equal(run.code, 0, run.stderr);
    t.match(run.stderr, /succeeded in [\d.]+s: deleted/);
    t.equal((await get(slug)).statusCode, 404, 'the tenant is gone');
    t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '', 'its containers too');
    t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'and its data');
  });

  t.test('token create, list, revoke; a read token cannot write', async (t) => {
    const created = await berth(['token', 'create', '--name', 'cli read', '--scope', 'read'], admin);
    t.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    t.match(created.stdout, /^berth_[0-9a-f]{12}_[A-Za-z0-9_-]+\n$/, 'the token alone on stdout');
    const id = /^berth_([0-9a-f]{12})_/.exec(token)![1]!;
    t.match(created.stderr, new RegExp(`token ${id} \\("cli read", scope read\\) created`));

    const list = await berth(['token', 'list'], admin);
    t.equal(list.code, 0);
    t.match(list.stdout, /^ID +NAME +SCOPE +CREATED +LAST-USED +REVOKED$/m);
    t.match(list.stdout, new RegExp(`^${id} +cli read +read +\\S+ +- +-$`, 'm'), 'listed, neither used nor revoked');

    const reader = { BERTH_URL: url, BERTH_TOKEN: token };
    t.equal((await berth(['tenant', 'list'], reader)).code, 0, 'a read token reads');
    const write = await berth(['tenant', 'create', testSlug('cli')], reader);
    t.equal(write.code, 1, 'a read token cannot write');
    oneErrorLine(t, write, 'FORBIDDEN');

    const revoked = await berth(['token', 'revoke', id], admin);
    t.equal(revoked.code, 0, revoked.stderr);
    const after = await berth(['token', 'list', '--json'], admin);
    t.ok(JSON.parse(after.stdout).tokens.find((x: { id: string }) => x.id === id).revokedAt, 'revoked');
    const refused = await berth(['tenant', 'list'], reader);
    t.equal(refused.code, 1);
    oneErrorLine(t, refused, 'UNAUTHENTICATED');

    const shown = outputs.filter((o) => o.includes(token));
    t.same(shown, [created.stdout], 'the new token appears only in create\'s output');
  });

  t.test('no output ever showed the admin token', async (t) => {
    t.ok(outputs.length > 40, `${outputs.length} outputs checked`);
    t.notOk(outputs.some((o) => o.includes(tp.token)));
  });
});

t.test('--wait on an operation that fails: exit 4 with its code', async (t) => {
  const tp = await startTestPlatform('clifail', { defaultAppVersion: 'does-not-exist' });
  t.teardown(() => tp.close());
  const url = await listen(tp);
  const run = await berth(['tenant', 'create', testSlug('cli'), '--wait', '--timeout', '300'], { BERTH_URL: url, BERTH_TOKEN: tp.token });
  t.equal(run.code, 4, run.stderr);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('berth:'));
  t.equal(errors.length, 1);
  t.match(errors[0], /^berth: IMAGE_MISSING: \S/);
  t.notMatch(run.stderr + run.stdout, tp.token);
});
