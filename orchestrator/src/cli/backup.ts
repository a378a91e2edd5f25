// berth backup ...: a team's backups (list, take, show, delete, download) and
// restores from them (preview, then over the team, into a new team, or the
// deleted team made again); without a slug, every team's at a glance.
// Arguments are checked here before any request (backup-input.ts).
import type { BackupOverview, BackupList, BackupView, CreateBackupReply, RestoreBody, RestorePreview, RestoreReply } from '../contract/index.js';
import { bytesInWords } from './api-types.js';
import { downloadTo } from './backup-download.js';
import { checkBackupId, checkOutPath, checkSlug, isBackupId } from './backup-input.js';
import { EXIT, fail, usageError } from './exit.js';
import { apiFromEnv, badResponse, call, seg, type Api } from './http.js';
import { err, inline, json, out, table, type Cell } from './output.js';
import { parseMany, shown, type ParsedMany } from './positionals.js';
import { WAIT_HELP } from './tenant.js';
import { follow, onOperationEvent, operationId } from './wait.js';

const USAGE = `Usage: berth backup <command> [arguments]

  list [<slug>] [--json]
  create <slug> [--wait [--timeout S]] [--json]
  show <slug> <id> [--json]
  preview <slug> <id> [--into NEW] [--json]
  restore <slug> <id> [--into NEW] [--yes] [--wait [--timeout S]] [--json]
  delete <slug> <id> --yes
  download <slug> <id> --out FILE

A backup holds a team's database and files, sealed, on the platform's backup
target; <id> is its UTC time and 6 hex digits (20261203T201500Z-a1b2c3), the
ID column of "berth backup list <slug>". A deleted team's backups are kept.
Run "berth backup <command> --help" for details; exit codes are in "berth --help".`;

const HELP = {
  list: `Usage: berth backup list [<slug>] [--json]

With a slug: the team's backups, newest first: ID STATE REASON CREATED AGE
SIZE PAUSE APP ERROR (PAUSE: how long its database and files were frozen for
the copy; APP: its app version then, which a restore brings back).
Without: every team with backups or a schedule: TEAM EVERY COUNT
LAST-SUCCESS OVERDUE LAST-FAILURE.

  --json           the API's JSON instead`,
  create: `Usage: berth backup create <slug> [--wait [--timeout S]] [--json]

Takes a backup of the team now (the team keeps serving; its database and
files are frozen for the copy). Prints the backup's id on stdout, the
operation's on stderr.

  --json           the API's JSON ({"backup", "operation"}) instead of the id;
                   with --wait, once the backup has ended
${WAIT_HELP}`,
  show: `Usage: berth backup show <slug> <id> [--json]

Shows one backup: state, reason, times, app version and plan, sizes, how long
the team was frozen, where it is, its volumes, and its error if it failed.

  --json           the API's JSON instead`,
  preview: `Usage: berth backup preview <slug> <id> [--into NEW] [--json]

What "berth backup restore" with the same arguments would do, step by step,
and the team it would replace as it is now. Changes nothing.

  --into NEW       preview a clone into the new team NEW instead
  --json           the API's JSON instead`,
  restore: `Usage: berth backup restore <slug> <id> [--into NEW] [--yes] [--wait [--timeout S]] [--json]

Restores a backup:
- over the team itself: replaces its database and files with the backup's
  and runs the backup's app version; a backup of the team as it is now
  (pre-restore) is taken first, the way back. Needs --yes: without it this
  prints the preview and exits 2, changing nothing.
- with --into NEW: makes the new team NEW from the backup (a clone).
- of a deleted team: makes the team again.
Prints the operation's id on stdout.

  --into NEW       a clone into the new team NEW (a free slug)
  --yes            confirm a restore over the team (for CI)
  --json           the API's JSON ({"tenant", "operation"}) instead of the id
${WAIT_HELP}`,
  delete: `Usage: berth backup delete <slug> <id> --yes

Deletes a backup, its files then its record, for good. Without --yes it
refuses (exit 2).`,
  download: `Usage: berth backup download <slug> <id> --out FILE

Streams the backup, opened and checked, into FILE: a tar of
<slug>-<id>/manifest.json and a tar of each volume's files. It is written to
FILE.partial first and renamed once complete; a download cut off (a damaged
backup, a lost connection) leaves no file and exits non-zero. An existing FILE
is never overwritten (exit 2). Operators only (an admin token).

  --out FILE       where to write the tar`
};

const teamPath = (slug: string) => `/api/v1/tenants/${seg(slug)}/backups`;
const backupPath = (slug: string, id: string) => `${teamPath(slug)}/${seg(id)}`;
/** An ISO time to the second: lists need no milliseconds. */
const when = (iso: string | undefined) => iso?.replace(/\.[0-9]+Z$/, 'Z');
/** bytesInWords, but a fresh team's backup (well under 1 MB) should not read "0 MB". */
const inWords = (bytes: number) => (bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KB` : bytesInWords(bytes));
const size = (bytes: number | undefined) => (bytes === undefined ? null : inWords(bytes));
const pause = (ms: number | undefined) => (ms === undefined ? null : `${ms} ms`);
const failure = (e: { code: string; message: string } | undefined) => (e ? `${e.code}: ${e.message}` : null);

/** How long ago, in the largest whole unit. */
function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return '-';
  const [n, unit] = s < 60 ? [s, 's'] : s < 3600 ? [s / 60, 'm'] : s < 86_400 ? [s / 3600, 'h'] : [s / 86_400, 'd'];
  return `${Math.floor(n)}${unit} ago`;
}

/** <slug> <id> from a command line, both checked. */
function target(a: ParsedMany, cmd: string): { slug: string; id: string } {
  return { slug: checkSlug('<slug>', a.args[0]!, cmd), id: checkBackupId(a.args[1]!, cmd) };
}

/** Follows an operation to its end (wait.ts): steps on stderr, exit 4 with its error when it fails. */
async function followOperation(api: Api, op: string, what: string, hint: string, timeoutS: number): Promise<void> {
  err(`${what}: operation ${op}`);
  await follow(api, { id: op, what, hint, noun: 'operation', timeoutS }, onOperationEvent);
}

type Command = (argv: readonly string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  async list(argv) {
    const cmd = 'backup list';
    const a = parseMany({ cmd, help: HELP.list, switches: ['--json'] }, ['<slug>'], 0, argv);
    const slug = a.args[0] === undefined ? undefined : checkSlug('<slug>', a.args[0], cmd);
    const api = apiFromEnv();
    if (slug === undefined) {
      const body = await call<BackupOverview>(api, 'GET', '/api/v1/backups');
      if (a.has('--json')) return json(body);
      out(table([
        ['TEAM', 'EVERY', 'COUNT', 'LAST-SUCCESS', 'OVERDUE', 'LAST-FAILURE'],
        ...body.teams.map((t) => [`${t.tenant}${t.exists ? '' : ' (deleted)'}`, t.every, t.count, when(t.lastSuccessAt), t.overdue ? 'yes' : 'no',
          t.lastFailure ? `${when(t.lastFailure.at)} ${failure(t.lastFailure)}` : null])
      ]));
      return out(`${body.teams.length} team${body.teams.length === 1 ? '' : 's'}; last backup failed: ${body.failed}; overdue: ${body.overdue}`);
    }
    const body = await call<BackupList>(api, 'GET', teamPath(slug));
    if (a.has('--json')) return json(body);
    out(table([
      ['ID', 'STATE', 'REASON', 'CREATED', 'AGE', 'SIZE', 'PAUSE', 'APP', 'ERROR'],
      ...body.backups.map((b) => [b.id, b.state, b.reason, when(b.createdAt), age(b.createdAt), size(b.bytes), pause(b.pauseMs), b.appVersion, failure(b.error)])
    ]));
    if (body.backups.length === 0) err(`no backups of ${slug}; take one with: berth backup create ${slug}`);
  },

  async create(argv) {
    const cmd = 'backup create';
    const a = parseMany({ cmd, help: HELP.create, switches: ['--json'], wait: true }, ['<slug>'], 1, argv);
    const slug = checkSlug('<slug>', a.args[0]!, cmd);
    const api = apiFromEnv();
    const reply = await call<CreateBackupReply>(api, 'POST', teamPath(slug));
    const id = reply?.backup?.id;
    if (typeof id !== 'string' || !isBackupId(id)) badResponse(api, 'no backup id');
    const op = operationId(api, reply);
    if (!a.wait) {
      if (a.has('--json')) return json(reply);
      out(id);
      return err(`backup ${id} of ${slug} under way: operation ${op} (see: berth backup show ${slug} ${id})`);
    }
    // The id first: a script has it even when the backup then fails.
    if (!a.has('--json')) out(id);
    await followOperation(api, op, `backup ${id} of ${slug}`, `berth backup show ${slug} ${id}`, a.timeoutS);
    if (a.has('--json')) json({ ...reply, backup: await call<BackupView>(api, 'GET', backupPath(slug, id)) });
  },

  async show(argv) {
    const cmd = 'backup show';
    const a = parseMany({ cmd, help: HELP.show, switches: ['--json'] }, ['<slug>', '<id>'], 2, argv);
    const { slug, id } = target(a, cmd);
    const b = await call<BackupView>(apiFromEnv(), 'GET', backupPath(slug, id));
    if (a.has('--json')) return json(b);
    out(table(showRows(b)));
  },

  async preview(argv) {
    const cmd = 'backup preview';
    const a = parseMany({ cmd, help: HELP.preview, values: ['--into'], switches: ['--json'] }, ['<slug>', '<id>'], 2, argv);
    const { slug, id } = target(a, cmd);
    const into = a.get('--into') === undefined ? undefined : checkSlug('--into', a.get('--into')!, cmd);
    const p = await getPreview(apiFromEnv(), slug, id, into);
    if (a.has('--json')) return json(p);
    printPreview(p);
  },

  async restore(argv) {
    const cmd = 'backup restore';
    const a = parseMany({ cmd, help: HELP.restore, values: ['--into'], switches: ['--yes', '--json'], wait: true }, ['<slug>', '<id>'], 2, argv);
    const { slug, id } = target(a, cmd);
    const into = a.get('--into') === undefined ? undefined : checkSlug('--into', a.get('--into')!, cmd);
    const api = apiFromEnv();
    const body: RestoreBody = into === undefined ? {} : { into };
    if ((into ?? slug) === slug) {
      if (a.has('--yes')) body.confirm = slug;
      else {
        // Over the team itself, unless it was deleted: show what would be lost, and stop.
        const p = await getPreview(api, slug, id, into);
        if (!p.newTeam) {
          if (a.has('--json')) json(p);
          else printPreview(p);
          fail(EXIT.usage, 'CONFIRMATION_REQUIRED', `restoring backup ${id} over ${slug} replaces its database and files${p.lostSince ? ` (what changed since ${when(p.lostSince)} is lost)` : ''}; nothing was done: run again with --yes to restore`);
        }
      }
    }
    const reply = await call<RestoreReply>(api, 'POST', `${backupPath(slug, id)}/restore`, body);
    const op = operationId(api, reply);
    const to = inline(reply.tenant);
    const what = `restore of backup ${id} ${to === slug ? `into ${slug}` : `into the new team ${to}`}`;
    if (!a.wait) {
      if (a.has('--json')) return json(reply);
      out(op);
      return err(`${what}: operation ${op} (see: berth tenant status ${to})`);
    }
    await followOperation(api, op, what, `berth tenant status ${to}`, a.timeoutS);
    if (a.has('--json')) json(reply);
  },

  async delete(argv) {
    const cmd = 'backup delete';
    const a = parseMany({ cmd, help: HELP.delete, switches: ['--yes'] }, ['<slug>', '<id>'], 2, argv);
    const { slug, id } = target(a, cmd);
    if (!a.has('--yes')) fail(EXIT.usage, 'CONFIRMATION_REQUIRED', `deleting backup ${id} of ${slug} removes its files for good; nothing was done: run again with --yes to delete it`);
    await call(apiFromEnv(), 'DELETE', backupPath(slug, id));
    out(`deleted backup ${id} of ${slug}`);
  },

  async download(argv) {
    const cmd = 'backup download';
    const a = parseMany({ cmd, help: HELP.download, values: ['--out'] }, ['<slug>', '<id>'], 2, argv);
    const { slug, id } = target(a, cmd);
    const file = a.get('--out');
    if (file === undefined) usageError('missing --out FILE: where to write the tar', cmd);
    checkOutPath(file, cmd);
    const bytes = await downloadTo(apiFromEnv(), `${backupPath(slug, id)}/download`, file);
    err(`backup ${id} of ${slug}: ${bytes} bytes (${inWords(bytes)}) written to ${file}`);
  }
};

const getPreview = (api: Api, slug: string, id: string, into: string | undefined) =>
  call<RestorePreview>(api, 'GET', `${backupPath(slug, id)}/preview${into === undefined ? '' : `?into=${seg(into)}`}`);

function showRows(b: BackupView): (readonly Cell[])[] {
  return [
    ['id:', b.id], ['team:', b.tenant], ['state:', b.state], ['reason:', b.reason],
    ['created:', `${when(b.createdAt)} (${age(b.createdAt)})`], ['ended:', when(b.endedAt)],
    ['duration:', b.durationMs === undefined ? null : `${b.durationMs} ms`], ['paused:', pause(b.pauseMs)],
    ['app version:', b.appVersion], ['plan:', b.plan],
    ['size:', size(b.bytes)], ['data:', size(b.dataBytes)], ['target:', b.target],
    ['volumes:', (b.volumes ?? []).map((v) => `${v.volume} (${v.entries} files, ${inWords(v.bytes)})`).join(', ')],
    ['operation:', b.operation], ['error:', failure(b.error)]
  ];
}

function printPreview(p: RestorePreview): void {
  const b = p.backup;
  out(`restore backup ${b.id} of ${b.tenant} (taken ${when(b.createdAt)}, app ${inline(b.appVersion)}) into ${p.into}:`);
  const r = p.replaces;
  if (p.newTeam) out(`  ${p.into} is made as a new team`);
  else out(`  replaces ${p.into} as it is now: ${inline(r.phase)}, app ${inline(r.appVersion)}${r.dataBytes === undefined ? '' : `, ${inWords(r.dataBytes)} of data`}`);
  if (p.lostSince) out(`  what changed in ${p.into} since ${when(p.lostSince)} is lost`);
  out('changes:');
  p.changes.forEach((c, i) => out(`  ${i + 1}. ${inline(c)}`));
}

export async function backupMain(argv: readonly string[]): Promise<void> {
  const [sub = '', ...rest] = argv;
  if (sub === '-h' || sub === '--help') return out(USAGE);
  if (sub === '') usageError(`missing a backup command (${Object.keys(COMMANDS).join(', ')})`, 'backup');
  const command = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!command) usageError(`unknown backup command ${shown(sub)}`, 'backup');
  await command(rest);
}
