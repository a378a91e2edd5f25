// berth upgrade and berth versions, run as real child processes (scripts/berth)
// against a real orchestrator on a TCP port, with real containers and
// nginx: start with --wait, a failing version's exit 4, approve, pause,
// resume, rollback, and the usage and API errors.
import t from 'tap';
import { httpGet } from '../../src/runtime/http-get.js';
import { brokenVersion, removeVersions, tagVersion, testVersion } from '../helpers/app-versions.js';
import { berth, listen, oneErrorLine } from '../helpers/berth-cli.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('cliup');
const V1 = tp.config.defaultAppVersion;
const V2 = await tagVersion(testVersion('cli'));
const BAD = await brokenVersion(testVersion('clibad'));
t.teardown(async () => {
  await tp.close();
  await removeVersions(V2, BAD);
});
const url = await listen(tp);
const admin = { BERTH_URL: url, BERTH_TOKEN: tp.token };
const [a, b] = [testSlug('cua'), testSlug('cub')].sort() as [string, string];
const served = async (slug: string) =>
  JSON.parse((await httpGet(`http://127.0.0.1:${tp.nginx.port}/version`, 10_000, { host: `${slug}.${tp.config.baseDomain}` })).body).version as string;
const jobState = async (id: string) => (await tp.platform.upgrades.service.get(id)).state;

t.before(async () => {
  const ops = await Promise.all([a, b].map(async (slug) => (await tp.platform.tenants.create({ slug })).operation.id));
  for (const op of ops) t.equal((await operationEnd(tp.platform.events, op, 240_000)).type, 'operation.succeeded');
});

t.test('versions, preview, and the errors that start nothing', async (t) => {
  const versions = await berth(['versions'], admin);
  t.equal(versions.code, 0, versions.stderr);
  t.match(versions.stdout, /^VERSION +TENANTS +DEFAULT +CREATED$/m);
  t.match(versions.stdout, new RegExp(`^${V1.replace(/\./g, '\\.')} +2 +yes `, 'm'), 'the version both run, the default');
  t.match(versions.stdout, new RegExp(`^${V2.replace(/\./g, '\\.')} +0 +- `, 'm'));
  t.ok(JSON.parse((await berth(['versions', '--json'], admin)).stdout).versions.length >= 3, '--json is the API JSON');

  const preview = await berth(['upgrade', 'preview', '--to', V2, '--all'], admin);
  t.equal(preview.code, 0, preview.stderr);
  t.match(preview.stdout, new RegExp(`^${a} +running +${V1.replace(/\./g, '\\.')} +${V2.replace(/\./g, '\\.')} +yes$`, 'm'), 'the first is the canary');
  t.match(preview.stdout, new RegExp(`^${b} +running `, 'm'));

  const help = await berth(['upgrade', '--help'], admin);
  t.equal(help.code, 0);
  t.match(help.stdout, /rollback <job>/);
  t.match((await berth(['upgrade', '--to', V2, '--help'], admin)).stdout, /--concurrency N/);

  const noSelection = await berth(['upgrade', '--to', V2], admin);
  t.equal(noSelection.code, 2, 'no selection is a usage error');
  oneErrorLine(t, noSelection, 'USAGE');
  const two = await berth(['upgrade', '--to', V2, '--all', '--tenants', a], admin);
  t.equal(two.code, 2);
  const badFilter = await berth(['upgrade', '--to', V2, '--filter', 'colour=blue'], admin);
  t.equal(badFilter.code, 2);
  t.match(badFilter.stderr, /unknown key "colour"/);
  const unknown = await berth(['upgrade', '--to', '7.7.7-nope', '--all'], admin);
  t.equal(unknown.code, 1, 'the API refuses an unknown version');
  oneErrorLine(t, unknown, 'VERSION_UNKNOWN');
  t.match(unknown.stderr, /7\.7\.7-nope/);
  const missing = await berth(['upgrade', 'status', 'no-such-job'], admin);
  t.equal(missing.code, 1);
  oneErrorLine(t, missing, 'UPGRADE_NOT_FOUND');
});

let upgraded = '';

t.test('upgrade --wait: progress on stderr, exit 0, both tenants on the new version', async (t) => {
  const run = await berth(['upgrade', '--to', V2, '--tenants', `${a},${b}`, '--canary', '1', '--concurrency', '2', '--auto-approve', '--wait'], admin);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, '', 'nothing on stdout');
  t.match(run.stderr, new RegExp(`^  ${a}: upgrading \\(route\\)$`, 'm'), 'steps as they happen');
  t.match(run.stderr, new RegExp(`^  ${b}: succeeded \\(done\\)$`, 'm'));
  t.match(run.stderr, /\nsucceeded: 2 upgraded, 0 failed, 0 skipped\n$/);
  upgraded = /job ([0-9a-f-]{36}), 2 tenants/.exec(run.stderr)?.[1] ?? '';
  t.same([await served(a), await served(b)], [V2, V2]);

  const status = await berth(['upgrade', 'status', upgraded], admin);
  t.equal(status.code, 0);
  t.match(status.stdout, /^state: +succeeded$/m);
  t.match(status.stdout, new RegExp(`^${a} +${V1.replace(/\./g, '\\.')} +${V2.replace(/\./g, '\\.')} +succeeded \\(canary\\) +done`, 'm'));
  t.match((await berth(['upgrade', 'list'], admin)).stdout, new RegExp(`^${upgraded} +upgrade +succeeded +\\S+ +2/2 +0 `, 'm'));
});

t.test('a version whose /healthz fails: exit 4 after the canary, both keep their version', async (t) => {
  const run = await berth(['upgrade', '--to', BAD, '--all', '--auto-approve', '--health-timeout', '6', '--wait'], admin);
  t.equal(run.code, 4, run.stderr);
  t.match(run.stderr, new RegExp(`^  ${a}: failed .*HEALTH_TIMEOUT`, 'm'));
  t.match(run.stderr, /\nberth: UPGRADE_HALTED: job \S+ halted: 0 upgraded, 1 failed, 1 skipped \(the canary failed: /);
  t.same([await served(a), await served(b)], [V2, V2]);
});

t.test('approve a waiting canary, pause and resume, then roll the job back with --wait', async (t) => {
  const start = await berth(['upgrade', '--to', V1, '--filter', `version=${V2},prefix=tcu`], admin);
  t.equal(start.code, 0, start.stderr);
  const id = start.stdout.trim();
  t.match(id, /^[0-9a-f-]{36}$/, 'the job id on stdout');
  await until(async () => (await jobState(id)) === 'awaiting-approval', 120_000, 'the canary');
  const pause = await berth(['upgrade', 'pause', id], admin);
  t.equal(pause.code, 0, pause.stderr);
  t.match(pause.stderr, new RegExp(`^job ${id}: paused$`, 'm'));
  t.equal((await berth(['upgrade', 'resume', id], admin)).code, 0);
  await until(async () => (await jobState(id)) === 'awaiting-approval', 30_000, 'waiting for approval again');
  const approve = await berth(['upgrade', 'approve', id, '--json'], admin);
  t.equal(approve.code, 0, approve.stderr);
  t.match(JSON.parse(approve.stdout), { id, state: 'running' });
  await until(async () => (await jobState(id)) === 'succeeded', 120_000, 'the job to end');
  t.same([await served(a), await served(b)], [V1, V1]);
  const again = await berth(['upgrade', 'approve', id], admin);
  t.equal(again.code, 1, 'nothing left to approve');
  oneErrorLine(t, again, 'UPGRADE_CONFLICT');

  const rollback = await berth(['upgrade', 'rollback', id, '--wait'], admin);
  t.equal(rollback.code, 0, rollback.stderr);
  t.match(rollback.stderr, /\nsucceeded: 2 upgraded, 0 failed, 0 skipped\n$/);
  t.same([await served(a), await served(b)], [V2, V2], 'back to the version each had before that job');
});
