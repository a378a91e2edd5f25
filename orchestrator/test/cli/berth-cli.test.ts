// scripts/berth, the CLI bash CI calls, run as a real child process against a
// real orchestrator listening on a TCP port (as in production: HTTP, and
// server-sent events for --wait), with real containers and nginx.
import { spawn } from 'node:child_process';
import t from 'tap';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';
import { berth, commandLinesWith, listen, oneErrorLine, outputs, script } from '../helpers/berth-cli.js';
import { assertStartSteps } from '../helpers/start-steps.js';

t.test('against a real orchestrator', async (t) => {
  const tp = await startTestPlatform('cli');
  t.teardown(() => tp.close());
  const url = await listen(tp);
  const admin = { BERTH_URL: url, BERTH_TOKEN: tp.token };
  const slug = testSlug('cli');
  const get = async (s: string) => tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${s}`, headers: { authorization: `Bearer ${tp.token}` } });

  t.test('tenant create --wait: every step on stderr, exit 0, running', async (t) => {
    const run = await berth(['tenant', 'create', slug, '--name', 'CLI Test', '--plan', 'starter', '--wait'], admin);
    t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
    t.equal(run.stdout, '', 'nothing on stdout');
    const steps = run.stderr.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    assertStartSteps(t, steps, { after: ['storage-limit', 'route'] });
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
    oneErrorLine(t, bad, 'VALIDATION_FAILED');
    const missing = await berth(['tenant', 'status', 'tnobody-here'], admin);
    t.equal(missing.code, 1);
    oneErrorLine(t, missing, 'TENANT_NOT_FOUND');
    const traversal = await berth(['tenant', 'status', '../tokens'], admin);
    t.equal(traversal.code, 1, 'a slug cannot reach another route');
    t.notMatch(traversal.stdout, /test-admin/);
  });

  t.test('tenant logs --tail prints lines', async (t) => {
    const run = await berth(['tenant', 'logs', slug, '--service', 'app', '--tail', '5'], admin);
    t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
    const lines = run.stdout.trimEnd().split('\n');
    t.ok(lines.length >= 1 && lines.length <= 5, `1-5 lines: ${lines.length}`);
    // The app's own lines (which ones depends on how many health checks ran since it started).
    t.match(run.stdout, /"app":"berth-tenant-app"|Listening on/);
  });

  t.test('tenant logs --follow streams until killed, leaving nothing behind; the token is on no command line', async (t) => {
    const child = spawn('bash', [script, 'tenant', 'logs', slug, '--follow', '--tail', '5'], { env: { ...process.env, ...admin } });
    let stdout = '';
    const firstLine = new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => (stdout += chunk) && stdout.includes('\n') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await firstLine;
    const streaming = (c: string) => c.includes(' tenant logs ') && c.includes(slug);
    const running = await commandLinesWith('cli/berth.js');
    t.ok(running.some(streaming), 'the CLI is streaming');
    t.same(await commandLinesWith(tp.token), [], 'the token is in no process\'s argv');
    child.kill('SIGTERM');
    t.equal(await exited, 143, 'stopped by the signal');
    t.match(stdout, /"app":"berth-tenant-app"|Listening on/);
    t.same((await commandLinesWith('cli/berth.js')).filter(streaming), [], 'nothing left streaming');
  });

  t.test('tenant stop --wait: exit 0 and stopped', async (t) => {
    const run = await berth(['tenant', 'stop', slug, '--wait'], admin);
    t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
    t.match(run.stderr, /^ {2}app:stopping$/m);
    t.equal((await get(slug)).json().phase, 'stopped');
  });

  t.test('tenant start without --wait prints the operation id', async (t) => {
    const run = await berth(['tenant', 'start', slug], admin);
    t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
    t.match(run.stdout, /^[0-9a-f-]{36}\n$/);
    const waited = await berth(['tenant', 'restart', slug, '--wait'], admin);
    t.equal(waited.code, 1, 'a second operation while one runs is refused before any wait');
    oneErrorLine(t, waited, 'OPERATION_CONFLICT');
    await until(async () => (await get(slug)).json().phase === 'running', 120_000, 'the start to finish');
  });

  t.test('--wait --timeout: gives up with exit 5, the operation goes on', async (t) => {
    const run = await berth(['tenant', 'restart', slug, '--wait', '--timeout', '1'], admin);
    t.equal(run.code, 5, 'exits 5', { stderr: run.stderr });
    t.match(run.stderr, /\nberth: TIMEOUT: gave up after 1 s waiting for restart \S+ \(operation [0-9a-f-]{36}\)/);
    t.equal(run.stderr.split('\n').filter((l) => l.startsWith('berth:')).length, 1, 'one error line');
    await until(async () => {
      const tenant = (await get(slug)).json();
      return !tenant.operation && tenant.phase === 'running';
    }, 120_000, 'the restart to finish');
  });

  t.test('tenant sleep|wake --wait: frozen, stopped, awake again; waking an awake team is refused', async (t) => {
    const frozen = await berth(['tenant', 'sleep', slug, '--wait'], admin);
    t.equal(frozen.code, 0, 'exits 0', { stderr: frozen.stderr });
    t.equal((await get(slug)).json().phase, 'frozen');
    const stopped = await berth(['tenant', 'sleep', slug, '--stop', '--wait'], admin);
    t.equal(stopped.code, 0, 'a frozen team may be stopped too', { stderr: stopped.stderr });
    t.equal((await get(slug)).json().phase, 'sleeping');
    const woken = await berth(['tenant', 'wake', slug, '--wait'], admin);
    t.equal(woken.code, 0, 'exits 0', { stderr: woken.stderr });
    t.equal((await get(slug)).json().phase, 'running');
    const again = await berth(['tenant', 'wake', slug, '--wait'], admin);
    t.equal(again.code, 1, 'an awake team is not woken');
    oneErrorLine(t, again, 'OPERATION_CONFLICT');
  });

  t.test('tenant delete --delete-data: refused without a terminal, done with --yes', async (t) => {
    const refused = await berth(['tenant', 'delete', slug, '--delete-data', '--wait'], admin);
    t.equal(refused.code, 2);
    oneErrorLine(t, refused, 'CONFIRMATION_REQUIRED');
    t.equal((await get(slug)).statusCode, 200, 'nothing deleted');

    const run = await berth(['tenant', 'delete', slug, '--delete-data', '--yes', '--wait'], admin);
    t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
    t.match(run.stderr, /succeeded in [\d.]+s: deleted/);
    t.equal((await get(slug)).statusCode, 404, 'the tenant is gone');
    t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '', 'its containers too');
    t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'and its data');
  });

  t.test('token create, list, revoke; a read token cannot write', async (t) => {
    const created = await berth(['token', 'create', '--name', 'cli read', '--scope', 'read'], admin);
    t.equal(created.code, 0, 'exits 0', { stderr: created.stderr });
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
    t.equal(revoked.code, 0, 'exits 0', { stderr: revoked.stderr });
    const after = await berth(['token', 'list', '--json'], admin);
    t.ok(JSON.parse(after.stdout).tokens.find((x: { id: string }) => x.id === id).revokedAt, 'revoked');
    const refused = await berth(['tenant', 'list'], reader);
    t.equal(refused.code, 1);
    oneErrorLine(t, refused, 'UNAUTHENTICATED');

    const shown = outputs.filter((o) => o.includes(token));
    t.same(shown, [created.stdout], 'the new token appears only in create\'s output');
  });

  t.test('no output ever showed the admin token', async (t) => {
    t.ok(outputs.length > 30, `${outputs.length} outputs checked`);
    t.notOk(outputs.some((o) => o.includes(tp.token)));
  });
});

t.test('--wait on an operation that fails: exit 4 with its code', async (t) => {
  const tp = await startTestPlatform('clifail', { defaultAppVersion: 'does-not-exist' });
  t.teardown(() => tp.close());
  const url = await listen(tp);
  const run = await berth(['tenant', 'create', testSlug('cli'), '--wait', '--timeout', '300'], { BERTH_URL: url, BERTH_TOKEN: tp.token });
  t.equal(run.code, 4, 'exits 4', { stderr: run.stderr });
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('berth:'));
  t.equal(errors.length, 1);
  t.match(errors[0], /^berth: IMAGE_MISSING: \S/);
  t.notMatch(run.stderr + run.stdout, tp.token);
});
