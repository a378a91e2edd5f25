// berth upgrade ... and berth versions: bulk upgrades of the tenants' app
// (canary, rolling, approval, pause/resume/cancel, rollback) and the versions
// there are.
import { parseArgs, wholeNumber, type Parsed } from './args.js';
import type { JobBody, JobList, JobView, Preview, Selection } from './api-types.js';
import { EXIT, fail, usageError } from './exit.js';
import { apiFromEnv, badResponse, call, seg, type Api } from './http.js';
import { err, inline, json, out, table } from './output.js';
import { follow } from './wait.js';

const USAGE = `Usage: berth upgrade --to VERSION (--all | --tenants A,B | --filter K=V,...) [options]
       berth upgrade <command> [arguments]

  --to VERSION ...          start an upgrade job (see "berth upgrade --help")
  preview --to VERSION ...  the tenants such a job would touch; starts nothing
  list [--json]
  status <job> [--json]
  approve <job>             let a job waiting after its canary go on
  pause|resume|cancel <job>
  rollback <job> [--tenants A,B] [--wait [--timeout S]]

Versions are the tags of the tenant-app image on the platform's host:
"berth versions"; scripts/build-images --only app --app-version X makes one.`;

const HELP = {
  start: `Usage: berth upgrade --to VERSION (--all | --tenants A,B | --filter K=V,...)
                     [--canary N] [--concurrency N] [--max-failures N]
                     [--auto-approve] [--health-timeout S] [--wait [--timeout S]] [--json]

Starts an upgrade job: the first N tenants (the canary) one batch, then the
rest N at a time, each with a zero-downtime swap (the new app starts beside
the old one; nginx moves over once it is healthy). Prints the job id.

  --to VERSION       the tenant-app version (see "berth versions")
  --all              every tenant
  --tenants A,B      these tenants
  --filter K=V,...   tenants matching all of phase=P, version=V, prefix=P
  --canary N         tenants upgraded first (default 1)
  --concurrency N    tenants at once after the canary (default 2)
  --max-failures N   failures after the canary that halt the job once passed (default 0)
  --auto-approve     go on after a healthy canary (default: wait for
                     "berth upgrade approve <job>" or the console)
  --health-timeout S how long a new app may take to pass /healthz
  --wait             follow the job on stderr; exit 0 when every tenant is
                     upgraded, 4 when any failed or the job halted or was
                     cancelled, 5 after --timeout S (default 600)
  --json             the job as the API's JSON instead of its id`,
  preview: `Usage: berth upgrade preview --to VERSION (--all | --tenants A,B | --filter K=V,...) [--canary N] [--json]

Lists the tenants a job with these flags would touch (SLUG PHASE FROM TO
CANARY) and those it would skip, and why. Starts nothing.`,
  list: `Usage: berth upgrade list [--json]

Lists upgrade jobs, newest first: ID KIND STATE TO DONE FAILED CREATED.`,
  status: `Usage: berth upgrade status <job> [--json]

Shows a job (state, strategy, counts, why it halted) and each tenant's
progress: SLUG FROM TO STATE STEP ERROR.`,
  rollback: `Usage: berth upgrade rollback <job> [--tenants A,B] [--wait [--timeout S]] [--json]

Starts a job that returns the tenants <job> upgraded (or only --tenants) to
the version each had before, with the same zero-downtime swap. A running job
must be paused or cancelled first. Prints the new job's id.`
};

const ACTIONS = {
  approve: 'Lets a job that waits after a healthy canary upgrade the rest.',
  pause: 'Starts no more tenants; those upgrading now finish. Resume it later.',
  resume: 'Lets a paused job go on where it stood.',
  cancel: 'Ends the job: tenants upgrading now finish, the others are skipped.'
} as const;

const SELECT = ['--all'] as const;
const SELECT_VALUES = ['--to', '--tenants', '--filter', '--canary'] as const;
const INT_FLAGS = { '--canary': 'canary', '--concurrency': 'concurrency', '--max-failures': 'maxFailures', '--health-timeout': 'healthTimeoutSeconds' } as const;
const FILTER_KEYS: Record<string, 'phase' | 'version' | 'slugPrefix'> = { phase: 'phase', version: 'version', prefix: 'slugPrefix' };

const jobPath = (id: string) => `/api/v1/upgrades/${seg(id)}`;
const tenantsOf = (list: string): string[] => list.split(',').filter((s) => s !== '');

/** The --all / --tenants / --filter flags as the API's selection. */
function selection(a: Parsed, cmd: string): Selection {
  const given = ['--all', '--tenants', '--filter'].filter((f) => a.has(f)).length;
  if (given !== 1) usageError('choose the tenants with exactly one of --all, --tenants A,B or --filter K=V', cmd);
  if (a.has('--all')) return { all: true };
  const list = a.get('--tenants');
  if (list !== undefined) return { tenants: tenantsOf(list) };
  const filter: Record<string, string> = {};
  for (const pair of a.get('--filter')!.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) usageError(`--filter takes K=V pairs (phase, version, prefix), got "${pair}"`, cmd);
    const key = pair.slice(0, eq);
    const field = Object.hasOwn(FILTER_KEYS, key) ? FILTER_KEYS[key] : undefined;
    if (!field) usageError(`--filter: unknown key "${key}" (phase, version, prefix)`, cmd);
    filter[field] = pair.slice(eq + 1);
  }
  return { filter: filter as Selection['filter'] };
}

/** The selection plus --to and the strategy flags. */
function jobBody(a: Parsed, cmd: string): JobBody {
  const to = a.get('--to');
  if (!to) usageError('missing --to VERSION (see: berth versions)', cmd);
  const body: JobBody = { ...selection(a, cmd), toVersion: to };
  for (const [flag, field] of Object.entries(INT_FLAGS)) {
    const v = a.get(flag);
    if (v !== undefined) body[field] = wholeNumber(flag, v, cmd);
  }
  if (a.has('--auto-approve')) body.autoApprove = true;
  return body;
}

function start(argv: readonly string[]) {
  const cmd = 'upgrade';
  const a = parseArgs({ cmd, help: HELP.start, values: [...SELECT_VALUES, '--concurrency', '--max-failures', '--health-timeout'], switches: [...SELECT, '--auto-approve', '--json'], wait: true }, argv);
  const body = jobBody(a, cmd);
  return async () => {
    const api = apiFromEnv();
    await finishJob(api, await call<JobView>(api, 'POST', '/api/v1/upgrades', body), `upgrade to ${body.toVersion}`, a);
  };
}

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<void>> = {
  async preview(argv) {
    const cmd = 'upgrade preview';
    const a = parseArgs({ cmd, help: HELP.preview, values: SELECT_VALUES, switches: [...SELECT, '--json'] }, argv);
    const body = jobBody(a, cmd);
    const api = apiFromEnv();
    const p = await call<Preview>(api, 'POST', '/api/v1/upgrades/preview', body);
    if (a.has('--json')) return json(p);
    out(table([['SLUG', 'PHASE', 'FROM', 'TO', 'CANARY'], ...p.tenants.map((t) => [t.slug, t.phase, t.from, t.to, t.canary ? 'yes' : ''])]));
    for (const s of p.skipped) out(`skipped: ${inline(s.slug)} ${inline(s.reason)}`);
  },

  async list(argv) {
    const a = parseArgs({ cmd: 'upgrade list', help: HELP.list, switches: ['--json'] }, argv);
    const api = apiFromEnv();
    const body = await call<JobList>(api, 'GET', '/api/v1/upgrades');
    if (a.has('--json')) return json(body);
    out(table([
      ['ID', 'KIND', 'STATE', 'TO', 'DONE', 'FAILED', 'CREATED'],
      ...body.jobs.map((j) => [j.id, j.kind, j.state, j.toVersion ?? '(each its own)', `${j.counts.succeeded}/${j.tenants.length}`, j.counts.failed, j.createdAt])
    ]));
  },

  async status(argv) {
    const a = parseArgs({ cmd: 'upgrade status', help: HELP.status, switches: ['--json'], positional: '<job>' }, argv);
    const api = apiFromEnv();
    const job = await call<JobView>(api, 'GET', jobPath(a.pos));
    if (a.has('--json')) return json(job);
    renderJob(job);
  },

  approve: action('approve'),
  pause: action('pause'),
  resume: action('resume'),
  cancel: action('cancel'),

  async rollback(argv) {
    const a = parseArgs({ cmd: 'upgrade rollback', help: HELP.rollback, values: ['--tenants'], switches: ['--json'], positional: '<job>', wait: true }, argv);
    const list = a.get('--tenants');
    const api = apiFromEnv();
    const job = await call<JobView>(api, 'POST', `${jobPath(a.pos)}/rollback`, list === undefined ? {} : { tenants: tenantsOf(list) });
    await finishJob(api, job, `rollback of ${a.pos}`, a);
  }
};

function action(name: keyof typeof ACTIONS) {
  const help = `Usage: berth upgrade ${name} <job> [--json]\n\n${ACTIONS[name]}`;
  return async (argv: readonly string[]) => {
    const a = parseArgs({ cmd: `upgrade ${name}`, help, switches: ['--json'], positional: '<job>' }, argv);
    const api = apiFromEnv();
    const job = await call<JobView>(api, 'POST', `${jobPath(a.pos)}/actions/${name}`);
    if (a.has('--json')) return json(job);
    err(`job ${inline(job.id)}: ${inline(job.state)}`);
  };
}

function renderJob(j: JobView): void {
  const s = j.strategy;
  out(table([
    ['job:', j.id], ['kind:', `${j.kind}${j.rollbackOf ? ` of ${j.rollbackOf}` : ''}`],
    ['state:', `${j.state}${j.reason ? ` (${j.reason})` : ''}`],
    ['to:', j.toVersion ?? 'each tenant its earlier version'],
    ['strategy:', `canary ${s.canary}, concurrency ${s.concurrency}, max failures ${s.maxFailures}${s.autoApprove ? ', auto-approve' : ''}`],
    ['tenants:', Object.entries(j.counts).map(([k, v]) => `${k} ${v}`).join(', ')]
  ]));
  out('');
  out(table([
    ['SLUG', 'FROM', 'TO', 'STATE', 'STEP', 'ERROR'],
    // A sleeper says where it slept and where the upgrade left it.
    ...j.tenants.map((t) => [t.slug, t.from, t.to, `${t.state}${t.canary ? ' (canary)' : ''}`, `${t.step ?? ''}${t.sleeper ? ` (was ${t.sleeper.from}${t.sleeper.after ? `; now ${t.sleeper.after}` : ''})` : ''}` || null, t.error ? `${t.error.code}: ${t.error.message}` : null])
  ]));
}

const END_STATES = new Set(['succeeded', 'failed', 'halted', 'cancelled']);

/** The job the API just made: its id (or JSON), or with --wait followed to its end. */
async function finishJob(api: Api, job: JobView, what: string, a: Parsed): Promise<void> {
  const id = job?.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(id)) badResponse(api, 'no job id');
  if (!a.wait) return a.has('--json') ? json(job) : out(id);
  err(`${what}: job ${id}, ${job.tenants.length} tenants`);
  await follow(api, { id, what, hint: `berth upgrade status ${id}`, noun: 'job', timeoutS: a.timeoutS }, (type, raw) => onJobEvent(id, type, raw));
  const end = await call<JobView>(api, 'GET', jobPath(id));
  if (a.has('--json')) json(end);
  const c = end.counts;
  const summary = `${c.succeeded} upgraded, ${c.failed} failed, ${c.skipped} skipped`;
  if (end.state === 'succeeded') return err(`succeeded: ${summary}`);
  fail(EXIT.opFailed, `UPGRADE_${end.state.toUpperCase().replace(/-/g, '_')}`, `job ${id} ${end.state}: ${summary}${end.reason ? ` (${end.reason})` : ''}`);
}

interface JobEvent {
  type?: string;
  tenant?: string;
  data?: { state?: string; step?: string; code?: string; message?: unknown; to?: string; reason?: string };
}

/** Each tenant's progress and the job's state changes on stderr; true once the job is at an end. */
function onJobEvent(job: string, type: string, raw: string): boolean {
  let e: JobEvent;
  try {
    e = JSON.parse(raw) as JobEvent;
  } catch {
    return false;
  }
  const d = e.data ?? {};
  switch (type || e.type) {
    case 'upgrade.tenant':
      err(`  ${inline(e.tenant)}: ${inline(d.state)}${d.step ? ` (${inline(d.step)})` : ''}${d.code ? `: ${inline(d.code)} ${inline(d.message)}` : ''}`);
      return false;
    case 'upgrade.state':
      err(`job ${inline(d.to)}${d.reason ? `: ${inline(d.reason)}` : ''}`);
      if (END_STATES.has(d.to ?? '')) return true;
      if (d.to === 'awaiting-approval') err(`the canary is healthy; approve with: berth upgrade approve ${job} (or in the console)`);
  }
  return false;
}

export async function upgradeMain(argv: readonly string[]): Promise<void> {
  const [sub = '', ...rest] = argv;
  if (sub === '-h' || sub === '--help') return out(USAGE);
  if (sub.startsWith('--')) return start(argv)();
  if (sub === '') usageError(`missing --to VERSION or a command (${Object.keys(COMMANDS).join(', ')})`, 'upgrade');
  const command = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!command) usageError(`unknown upgrade command "${sub}"`, 'upgrade');
  await command(rest);
}
