// berth backup, run as a real child process (scripts/berth) against a real
// orchestrator on a TCP port, with a real team's containers and the
// platform's backup directory: create --wait, both lists, show, preview, a
// restore refused without --yes then done with it, a clone, the download's
// tar (and a cut one leaving no file), delete; and bad input refused before
// any request (a server that counts requests stands in for the API).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { BACKUP_ID, SLUG_RULE, SLUG_SCHEMA_PATTERN, slugProblem } from '../../src/contract/index.js';
import { isSlug, RULES } from '../../src/cli/backup-input.js';
import { berth, listen, oneErrorLine, type Run } from '../helpers/berth-cli.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';

const cliJs = fileURLToPath(new URL('../../dist/cli/berth.js', import.meta.url));
const BIG = 'a'.repeat(1 << 20);

const tp = await startTestPlatform('clibk');
const p = tp.platform;
const slug = testSlug('clibk');
const clone = testSlug('clicl');
t.teardown(async () => {
  // Every team the test made, with its data, even when a step above failed; then the platform.
  for (const s of [clone, slug]) {
    if (!(await p.repo.get(s))) continue;
    const del = await p.tenants.delete(s, { deleteData: true, confirm: s });
    await operationEnd(p.events, del.operation.id, 240_000);
  }
  await tp.close();
});
const url = await listen(tp);
const admin = { BERTH_URL: url, BERTH_TOKEN: tp.token };
const api = (method: 'GET' | 'POST', url: string) =>
  p.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${tp.token}` } });
const backups = async () => ((await api('GET', `/tenants/${slug}/backups`)).json() as { backups: { id: string; reason: string; state: string }[] }).backups;

t.before(async () => {
  const made = await p.tenants.create({ slug });
  t.equal((await operationEnd(p.events, made.operation.id, 240_000)).type, 'operation.succeeded', 'the team is up');
  // Built now (scripts/berth builds when stale), for the runs below that start dist/cli/berth.js themselves.
  t.equal((await berth(['--help'], {})).code, 0);
});

/** The CLI with arguments no exec can carry (Linux takes at most 128 KiB per argument): they come on stdin. */
function berthWithArgs(args: string[], env: Record<string, string>): Promise<Run> {
  const code = `let s = ''; for await (const c of process.stdin) s += c;
process.argv = [process.argv[0], 'berth', ...JSON.parse(s)];
await import(${JSON.stringify(cliJs)});`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(JSON.stringify(args));
  });
}

t.test('the CLI holds the contract\'s slug and backup id rules', async (t) => {
  t.same(RULES, { slug: SLUG_SCHEMA_PATTERN, slugWords: SLUG_RULE, backupId: BACKUP_ID });
  for (const s of ['abc', 'a-b-c', 'ab', 'a--b', 'ab-', 'Abc', '9ab', `a${'b'.repeat(31)}`, `a${'b'.repeat(32)}`, 'a.b', 'ab/c']) {
    t.equal(isSlug(s), slugProblem(s) === undefined, `${s}: as the contract says`);
  }
});

t.test('bad input: refused with exit 2 and what was wrong, before any request', async (t) => {
  let requests = 0;
  const counter = http.createServer((req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => counter.close(() => resolve())));
  const env = { BERTH_URL: `http://127.0.0.1:${(counter.address() as net.AddressInfo).port}`, BERTH_TOKEN: tp.token };
  const id = '20261203T201500Z-a1b2c3';
  const dir = t.testdir({ 'kept.tar': 'an older download' });
  const kept = path.join(dir, 'kept.tar');

  const cases: Array<[string, string[], string, RegExp]> = [
    ['a bad slug', ['backup', 'list', 'Bad_Slug'], 'SLUG_INVALID', /<slug> "Bad_Slug" is not a team's slug: 3-32 characters/],
    ['a slug with a separator', ['backup', 'create', `${slug}/../x`], 'SLUG_INVALID', /is not a team's slug/],
    ['a bad id', ['backup', 'show', slug, 'latest'], 'BACKUP_ID_INVALID', /<id> "latest" is not a backup id: .*e\.g\. 20261203T201500Z-a1b2c3/],
    ['an id that climbs', ['backup', 'download', slug, '../../tokens', '--out', path.join(dir, 'x.tar')], 'BACKUP_ID_INVALID', /"\.\.\/\.\.\/tokens"/],
    ['a bad --into', ['backup', 'restore', slug, id, '--into', 'Not A Slug'], 'SLUG_INVALID', /--into "Not A Slug"/],
    ['a missing id', ['backup', 'show', slug], 'USAGE', /missing <id>/],
    ['one argument too many', ['backup', 'delete', slug, id, 'extra', '--yes'], 'USAGE', /unexpected argument "extra"/],
    ['an unknown flag', ['backup', 'show', slug, id, '--into', slug], 'USAGE', /unknown flag --into/],
    ['an unknown command', ['backup', 'frob'], 'USAGE', /unknown backup command "frob"/],
    ['delete without --yes', ['backup', 'delete', slug, id], 'CONFIRMATION_REQUIRED', /removes its files for good; nothing was done: run again with --yes/],
    ['a download without --out', ['backup', 'download', slug, id], 'USAGE', /missing --out FILE/],
    ['a download over a file', ['backup', 'download', slug, id, '--out', kept], 'FILE_EXISTS', /kept\.tar exists: berth does not overwrite it/]
  ];
  for (const [what, args, code, message] of cases) {
    const run = await berth(args, env);
    t.equal(run.code, 2, `${what}: exit 2`, { stderr: run.stderr });
    oneErrorLine(t, run, code);
    t.match(run.stderr, message, what);
    t.equal(run.stdout, '', `${what}: nothing on stdout`);
  }
  t.equal(await readFile(kept, 'utf8'), 'an older download', 'the existing file untouched');
  t.notOk(existsSync(`${kept}.partial`), 'no partial file made');

  for (const args of [['backup', 'list', BIG], ['backup', 'show', slug, BIG], ['backup', 'restore', slug, id, '--into', BIG, '--yes'], ['backup', BIG]]) {
    const run = await berthWithArgs(args, env);
    const where = args.indexOf(BIG);
    t.equal(run.code, 2, `a 1 MB argument (${where}) is refused with exit 2`, { stderr: run.stderr.slice(0, 300) });
    t.ok(run.stderr.length < 400, `in a short message (${run.stderr.length} characters)`);
    t.match(run.stderr, /^berth: [A-Z_]+: .*"aaaa+…" \(1048576 characters\)/);
  }
  t.equal(requests, 0, 'no request reached the API');
  t.same(await backups(), [], 'and the team has no backup');
});

let backupId = '';

t.test('create --wait: the id on stdout, the steps on stderr; then list shows it complete', async (t) => {
  const run = await berth(['backup', 'create', slug, '--wait'], admin);
  t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
  t.match(run.stdout, /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\n$/, 'the backup id alone on stdout');
  backupId = run.stdout.trim();
  t.match(run.stderr, new RegExp(`^backup ${backupId} of ${slug}: operation [0-9a-f-]{36}$`, 'm'));
  t.match(run.stderr, /\nsucceeded in [\d.]+s/);

  const list = await berth(['backup', 'list', slug], admin);
  t.equal(list.code, 0, list.stderr);
  const [header, ...rows] = list.stdout.trimEnd().split('\n');
  t.match(header, /^ID +STATE +REASON +CREATED +AGE +SIZE +PAUSE +APP +ERROR$/);
  t.equal(rows.length, 1, 'one backup');
  t.match(rows[0], new RegExp(`^${backupId} +complete +manual +\\S+Z +\\d+[smh] ago +[\\d.]+ [KMG]B +\\d+ ms +${tp.config.defaultAppVersion.replace(/\./g, '\\.')} +-$`));
  const json = JSON.parse((await berth(['backup', 'list', slug, '--json'], admin)).stdout) as { backups: { id: string; state: string }[] };
  t.match(json.backups, [{ id: backupId, state: 'complete' }], '--json is the API\'s JSON');
});

t.test('list without a slug: every team at a glance', async (t) => {
  const run = await berth(['backup', 'list'], admin);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^TEAM +EVERY +COUNT +LAST-SUCCESS +OVERDUE +LAST-FAILURE$/m);
  t.match(run.stdout, new RegExp(`^${slug} +\\S+ +1 +\\S+Z +no +-$`, 'm'), 'the team: one backup, not overdue, no failure');
  t.match(run.stdout, /^1 team; last backup failed: 0; overdue: 0$/m);
  const json = JSON.parse((await berth(['backups', 'list', '--json'], admin)).stdout) as { teams: { tenant: string; count: number }[] };
  t.match(json.teams.find((x) => x.tenant === slug), { count: 1 });
});

t.test('show and preview', async (t) => {
  const show = await berth(['backup', 'show', slug, backupId], admin);
  t.equal(show.code, 0, show.stderr);
  for (const line of [`id: +${backupId}`, `team: +${slug}`, 'state: +complete', 'reason: +manual', 'paused: +\\d+ ms', 'volumes: +.*db-data \\(\\d+ files']) {
    t.match(show.stdout, new RegExp(`^${line}`, 'm'), line);
  }
  t.match(JSON.parse((await berth(['backup', 'show', slug, backupId, '--json'], admin)).stdout), { id: backupId, tenant: slug, state: 'complete' });
  const missing = await berth(['backup', 'show', slug, '20200101T000000Z-abcdef'], admin);
  t.equal(missing.code, 1, 'an unknown backup: the API\'s refusal, exit 1');
  oneErrorLine(t, missing, 'BACKUP_NOT_FOUND');

  const over = await berth(['backup', 'preview', slug, backupId], admin);
  t.equal(over.code, 0, over.stderr);
  t.match(over.stdout, new RegExp(`^restore backup ${backupId} of ${slug} \\(taken \\S+, app \\S+\\) into ${slug}:$`, 'm'));
  t.match(over.stdout, new RegExp(`^ {2}replaces ${slug} as it is now: running, app \\S+`, 'm'));
  t.match(over.stdout, /^changes:\n {2}1\. take a backup of .* \(pre-restore\), the way back$/m);
  t.match(over.stdout, /^ {2}\d\. replace its database and files/m);
  const into = await berth(['backup', 'preview', slug, backupId, '--into', clone, '--json'], admin);
  t.equal(into.code, 0, into.stderr);
  const pv = JSON.parse(into.stdout) as { newTeam: boolean; changes: string[] };
  t.equal(pv.newTeam, true);
  t.match(pv.changes[0], new RegExp(`make team ${clone} .*a clone of ${slug}`));
});

t.test('restore over the team: refused without --yes, changing nothing; done with --yes --wait', async (t) => {
  const refused = await berth(['backup', 'restore', slug, backupId, '--wait'], admin);
  t.equal(refused.code, 2, 'exit 2', { stderr: refused.stderr });
  oneErrorLine(t, refused, 'CONFIRMATION_REQUIRED');
  t.match(refused.stderr, new RegExp(`restoring backup ${backupId} over ${slug} replaces its database and files .*run again with --yes`));
  t.match(refused.stdout, /^changes:$/m, 'the preview shown');
  t.same((await backups()).map((b) => b.reason), ['manual'], 'no pre-restore backup: nothing started');
  t.match((await api('GET', `/tenants/${slug}`)).json(), { phase: 'running' });

  const run = await berth(['backup', 'restore', slug, backupId, '--yes', '--wait'], admin);
  t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
  t.equal(run.stdout, '', 'nothing on stdout with --wait');
  t.match(run.stderr, new RegExp(`^restore of backup ${backupId} into ${slug}: operation [0-9a-f-]{36}$`, 'm'));
  t.match(run.stderr, /\nsucceeded in [\d.]+s: running\n$/);
  t.match(await backups(), [{ reason: 'pre-restore', state: 'complete' }, { id: backupId }], 'the way back, newest first');
  t.match((await api('GET', `/tenants/${slug}`)).json(), { phase: 'running' });
});

t.test('restore --into: a clone, running; deleted again with its data', async (t) => {
  const run = await berth(['backup', 'restore', slug, backupId, '--into', clone, '--wait'], admin);
  t.equal(run.code, 0, 'exits 0 without --yes: a new team replaces nothing', { stderr: run.stderr });
  t.match(run.stderr, new RegExp(`restore of backup ${backupId} into the new team ${clone}: operation`));
  const tenants = JSON.parse((await berth(['tenant', 'list', '--json'], admin)).stdout) as { tenants: { slug: string; phase: string }[] };
  t.match(tenants.tenants.find((x) => x.slug === clone), { phase: 'running' }, 'the clone runs');
  const again = await berth(['backup', 'restore', slug, backupId, '--into', clone], admin);
  t.equal(again.code, 1, 'a clone over an existing team: the API refuses');
  oneErrorLine(t, again, 'TENANT_EXISTS');


  // A backup that fails: its directory on the target is taken by a file, so the operation fails while it runs.
  const blocker = path.join(tp.config.backups.dir, clone);
  await writeFile(blocker, 'in the way');
  const failed = await berth(['backup', 'create', clone, '--wait'], admin);
  await rm(blocker);
  t.equal(failed.code, 4, 'exit 4: the backup operation failed', { stderr: failed.stderr });
  t.match(failed.stdout, /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\n$/, 'its id was printed first');
  const errors = failed.stderr.split('\n').filter((l) => l.startsWith('berth:'));
  t.equal(errors.length, 1, 'one error line');
  t.match(errors[0], /^berth: [A-Z_]+: \S.*(ENOTDIR|EEXIST|not a directory|exists)/, 'with the error\'s code and message');
  const list = await berth(['backup', 'list', clone], admin);
  t.match(list.stdout, new RegExp(`^${failed.stdout.trim()} +failed +manual .* [A-Z_]+: `, 'm'), 'listed as failed, with its error');

  const del = await berth(['tenant', 'delete', clone, '--delete-data', '--yes', '--wait'], admin);
  t.equal(del.code, 0, del.stderr);
  t.equal((await api('GET', `/tenants/${clone}`)).statusCode, 404, 'the clone is gone');
});

t.test('download: a tar with the manifest; never over a file; a cut download leaves nothing', async (t) => {
  const dir = t.testdir({});
  const out = path.join(dir, 'backup.tar');
  const run = await berth(['backup', 'download', slug, backupId, '--out', out], admin);
  t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
  t.match(run.stderr, new RegExp(`^backup ${backupId} of ${slug}: \\d+ bytes \\(.*\\) written to ${out.replace(/[.]/g, '\\.')}\n$`));
  t.notOk(existsSync(`${out}.partial`), 'the partial file renamed');
  const { stdout } = await promisify(execFile)('tar', ['-tf', out]);
  const entries = stdout.trim().split('\n');
  t.ok(entries.includes(`${slug}-${backupId}/manifest.json`), `manifest.json in ${entries.join(', ')}`);
  t.ok(entries.includes(`${slug}-${backupId}/db-data.tar`), 'and each volume');
  t.equal((await stat(out)).mode & 0o777, 0o600, 'readable by its owner only');

  const size = (await stat(out)).size;
  const over = await berth(['backup', 'download', slug, backupId, '--out', out], admin);
  t.equal(over.code, 2);
  oneErrorLine(t, over, 'FILE_EXISTS');
  t.equal((await stat(out)).size, size, 'the file untouched');

  const none = path.join(dir, 'none.tar');
  const missing = await berth(['backup', 'download', slug, '20200101T000000Z-abcdef', '--out', none], admin);
  t.equal(missing.code, 1);
  oneErrorLine(t, missing, 'BACKUP_NOT_FOUND');
  t.notOk(existsSync(none) || existsSync(`${none}.partial`), 'no file, no partial');

  // A damaged backup: the server stops the tar at the damage; the CLI keeps nothing of it.
  const damaged = (await backups()).find((b) => b.reason === 'pre-restore')!.id;
  const sealed = path.join(tp.config.backups.dir, slug, damaged, 'db-data.tar.sealed');
  const fh = await open(sealed, 'r+');
  const at = Math.floor((await fh.stat()).size / 2);
  await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, at);
  await fh.close();
  const cut = path.join(dir, 'cut.tar');
  const broken = await berth(['backup', 'download', slug, damaged, '--out', cut], admin);
  t.equal(broken.code, 3, 'exit 3: the stream was lost', { stderr: broken.stderr });
  oneErrorLine(t, broken, 'DOWNLOAD_BROKEN');
  t.match(broken.stderr, /broke off after \d+ bytes .*nothing was written to/);
  t.notOk(existsSync(cut) || existsSync(`${cut}.partial`), 'no file, no partial');
  const gone = await berth(['backup', 'delete', slug, damaged, '--yes'], admin);
  t.equal(gone.code, 0, gone.stderr);
});

t.test('a deleted team: restored without --yes, since nothing is replaced; made again', async (t) => {
  const del = await p.tenants.delete(slug, { deleteData: true, confirm: slug });
  t.equal((await operationEnd(p.events, del.operation.id, 240_000)).type, 'operation.succeeded');
  const overview = await berth(['backup', 'list'], admin);
  t.match(overview.stdout, new RegExp(`^${slug} \\(deleted\\) `, 'm'), 'its backups outlive it');
  const run = await berth(['backup', 'restore', slug, backupId, '--wait'], admin);
  t.equal(run.code, 0, 'exits 0', { stderr: run.stderr });
  t.match(run.stderr, /\nsucceeded in [\d.]+s: running\n$/);
  t.match((await api('GET', `/tenants/${slug}`)).json(), { phase: 'running' }, 'the team is back');
});

t.test('delete --yes: the backup is gone', async (t) => {
  const run = await berth(['backup', 'delete', slug, backupId, '--yes'], admin);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, `deleted backup ${backupId} of ${slug}\n`);
  const show = await berth(['backup', 'show', slug, backupId], admin);
  t.equal(show.code, 1);
  oneErrorLine(t, show, 'BACKUP_NOT_FOUND');
  t.notOk((await backups()).some((b) => b.id === backupId));
});

t.test('help: the group in "berth --help", each command\'s own', async (t) => {
  t.match((await berth(['--help'], {})).stdout, /berth backup download <slug> <id> --out FILE/);
  const group = await berth(['backup', '--help'], {});
  t.equal(group.code, 0);
  for (const cmd of ['list', 'create', 'show', 'preview', 'restore', 'delete', 'download']) t.match(group.stdout, new RegExp(`^ {2}${cmd} `, 'm'));
  const one = await berth(['backup', 'restore', 'Bad_Slug', '--help'], {});
  t.equal(one.code, 0, '--help wins over a bad argument');
  t.match(one.stdout, /Needs --yes/);
});
