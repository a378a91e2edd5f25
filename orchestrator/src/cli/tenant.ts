// berth tenant ...: create, list, status, start/stop/restart, sleep/wake, delete, logs, owner-link.
import { parseArgs, wholeNumber, type Parsed, type Spec } from './args.js';
import type { OwnerLink, TenantList, TenantView } from './api-types.js';
import { EXIT, fail, usageError } from './exit.js';
import { apiFromEnv, call, seg, stream, TransportError, unreachable, type Api } from './http.js';
import { err, inline, json, out, table } from './output.js';
import { finishOperation, operationId, waitOperation } from './wait.js';

const USAGE = `Usage: berth tenant <command> [arguments]

  create <slug> [--name NAME] [--plan PLAN] [--wait [--timeout S]]
  list [--phase PHASE] [--json]
  status <slug> [--json]
  start <slug> [--wait [--timeout S]]
  stop <slug> [--wait [--timeout S]]
  restart <slug> [--wait [--timeout S]]
  sleep <slug> [--stop] [--wait [--timeout S]]
  wake <slug> [--wait [--timeout S]]
  delete <slug> [--delete-data [--yes]] [--wait [--timeout S]]
  logs <slug> [--service S] [--tail N] [--follow]
  owner-link <slug> [--json] [--wait [--timeout S]]

Run "berth tenant <command> --help" for one command's details; exit codes are
in "berth --help".`;

export const WAIT_HELP = `  --wait           follow the operation: each step on stderr, then exit 0 when
                   it succeeds, 4 when it fails (with its code and message)
  --timeout S      with --wait: give up after S seconds (default 600), exit 5

Without --wait it prints the operation id on stdout and returns at once.`;

const HELP = {
  create: `Usage: berth tenant create <slug> [--name NAME] [--plan PLAN] [--wait [--timeout S]]

Creates a tenant: its own app, database and object store, served at
http://<slug>.<base domain>. The slug is 3-32 characters of a-z, 0-9 and "-",
starting with a letter (the API checks it: SLUG_INVALID, exit 1).

  --name NAME      display name (default: the slug)
  --plan PLAN      the template's plan (default: the template's default plan)
${WAIT_HELP}`,
  list: `Usage: berth tenant list [--phase PHASE] [--json]

Lists tenants as a table: SLUG PHASE HEALTH VERSION PLAN URL.

  --phase PHASE    only tenants in PHASE (running, stopped, failed, ...)
  --json           the API's JSON ({"tenants": [...]}) instead of the table`,
  status: `Usage: berth tenant status <slug> [--json]

Shows one tenant: phase, health, version, plan, URL, services, the operation
in progress and the last error.

  --json           the API's JSON for the tenant instead`,
  delete: `Usage: berth tenant delete <slug> [--delete-data [--yes]] [--wait [--timeout S]]

Deletes a tenant's containers and route; its data volumes are kept unless
--delete-data is given.

  --delete-data    delete the database and object-store data too, for good;
                   asks you to type the slug on a terminal, and without a
                   terminal refuses (exit 2) unless --yes is given
  --yes            do not ask (for CI)
${WAIT_HELP}`,
  logs: `Usage: berth tenant logs <slug> [--service S] [--tail N] [--follow]

Prints a service's recent log lines on stdout.

  --service S      app (default), db or storage
  --tail N         how many recent lines (default 100)
  --follow         keep printing new lines until interrupted (Ctrl-C) or the
                   container stops`,
  'owner-link': `Usage: berth tenant owner-link <slug> [--json] [--wait [--timeout S]]

Issues a new one-time link for the team's owner to choose a password (for an
owner who lost theirs or let it expire; links last BERTH_OWNER_LINK_TTL_DAYS).
The previous link stops working. The team's app is restarted with the new
link (a stopped team gets it when started); an owner who already chose a
password keeps it, and the link then does nothing.

Prints the link on stdout (hand it to the owner only: it is a password until
used) and when it expires on stderr.

  --json           the API's JSON ({"url", "expiresAt", "operation"}) instead
${WAIT_HELP}`
};

const ACTIONS = {
  start: "Starts a stopped (or failed) tenant's containers, waits for health, routes it.",
  stop: "Stops a tenant's containers (data kept); its host then answers a 503 page.",
  restart: "Stops then starts a tenant's containers.",
  wake: 'Wakes a frozen or sleeping tenant now (its next request would too): thaws or starts its containers, waits for health, routes it.'
} as const;

const SLEEP_HELP = `Usage: berth tenant sleep <slug> [--stop] [--wait [--timeout S]]

Puts a running tenant to sleep now, whatever its idle time: its containers are
frozen (docker pause: memory kept, no CPU; phase "frozen"). Its next request
wakes it again. The sleep policy does the same by itself for idle teams (the
plan's sleep times, or the team's own).

  --stop           stop the containers instead (no memory held; phase
                   "sleeping"); a frozen tenant may be stopped too
${WAIT_HELP}`;

const tenantPath = (slug: string) => `/api/v1/tenants/${seg(slug)}`;

const health = (h: TenantView['health']) => (h === undefined || h === null ? null : h.healthy ? 'healthy' : 'unhealthy');

type Command = (args: readonly string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  async create(argv) {
    const a = parseArgs({ cmd: 'tenant create', help: HELP.create, values: ['--name', '--plan'], positional: '<slug>', wait: true }, argv);
    const api = apiFromEnv();
    const body = { slug: a.pos, ...(a.get('--name') ? { displayName: a.get('--name') } : {}), ...(a.get('--plan') ? { plan: a.get('--plan') } : {}) };
    await finishOperation(api, await call(api, 'POST', '/api/v1/tenants', body), `create ${a.pos}`, a);
  },

  async list(argv) {
    const a = parseArgs({ cmd: 'tenant list', help: HELP.list, values: ['--phase'], switches: ['--json'] }, argv);
    const api = apiFromEnv();
    const phase = a.get('--phase');
    const body = await call<TenantList>(api, 'GET', `/api/v1/tenants${phase ? `?phase=${seg(phase)}` : ''}`);
    if (a.has('--json')) return json(body);
    out(table([['SLUG', 'PHASE', 'HEALTH', 'VERSION', 'PLAN', 'URL'], ...body.tenants.map((t) => [t.slug, t.phase, health(t.health), t.appVersion, t.plan, t.url])]));
  },

  async status(argv) {
    const a = parseArgs({ cmd: 'tenant status', help: HELP.status, switches: ['--json'], positional: '<slug>' }, argv);
    const api = apiFromEnv();
    const t = await call<TenantView & { services?: Record<string, string> }>(api, 'GET', tenantPath(a.pos));
    if (a.has('--json')) return json(t);
    out(table(statusRows(t)));
  },

  start: action('start'),
  stop: action('stop'),
  restart: action('restart'),
  wake: action('wake'),

  async sleep(argv) {
    const a = parseArgs({ cmd: 'tenant sleep', help: SLEEP_HELP, switches: ['--stop'], positional: '<slug>', wait: true }, argv);
    const api = apiFromEnv();
    await finishOperation(api, await call(api, 'POST', `${tenantPath(a.pos)}/actions/sleep${a.has('--stop') ? '?stop=true' : ''}`), `sleep ${a.pos}`, a);
  },

  async delete(argv) {
    const a = parseArgs({ cmd: 'tenant delete', help: HELP.delete, switches: ['--delete-data', '--yes'], positional: '<slug>', wait: true }, argv);
    const api = apiFromEnv();
    let query = '';
    if (a.has('--delete-data')) {
      if (!a.has('--yes')) await confirm(a.pos);
      query = `?deleteData=true&confirm=${seg(a.pos)}`;
    }
    await finishOperation(api, await call(api, 'DELETE', tenantPath(a.pos) + query), `delete ${a.pos}`, a);
  },

  async logs(argv) {
    const spec: Spec = { cmd: 'tenant logs', help: HELP.logs, values: ['--service', '--tail'], switches: ['--follow'], positional: '<slug>' };
    const a = parseArgs(spec, argv);
    const tail = wholeNumber('--tail', a.get('--tail') ?? '100', spec.cmd);
    const api = apiFromEnv();
    const path = `${tenantPath(a.pos)}/logs?service=${seg(a.get('--service') ?? 'app')}&tail=${tail}`;
    if (!a.has('--follow')) {
      const body = await call<{ lines: string[] }>(api, 'GET', path);
      if (body.lines.length > 0) out(body.lines.join('\n'));
      return;
    }
    await followLog(api, `${path}&follow=true`);
  },

  async 'owner-link'(argv) {
    const a = parseArgs({ cmd: 'tenant owner-link', help: HELP['owner-link'], switches: ['--json'], positional: '<slug>', wait: true }, argv);
    const api = apiFromEnv();
    const link = await call<OwnerLink>(api, 'POST', `${tenantPath(a.pos)}/owner-link`);
    const op = operationId(api, link);
    if (a.wait) await waitOperation(api, op, `owner-link ${a.pos}`, a.timeoutS);
    else err(`operation ${op} restarts the app with the new link`);
    if (a.has('--json')) return json(link);
    out(inline(link.url));
    err(`the link works once, until ${inline(link.expiresAt)}; the previous one no longer works`);
  }
};

function action(name: keyof typeof ACTIONS): Command {
  const help = `Usage: berth tenant ${name} <slug> [--wait [--timeout S]]\n\n${ACTIONS[name]}\n\n${WAIT_HELP}`;
  return async (argv) => {
    const a: Parsed = parseArgs({ cmd: `tenant ${name}`, help, positional: '<slug>', wait: true }, argv);
    const api = apiFromEnv();
    await finishOperation(api, await call(api, 'POST', `${tenantPath(a.pos)}/actions/${name}`), `${name} ${a.pos}`, a);
  };
}

function statusRows(t: TenantView & { services?: Record<string, string> }) {
  const h = t.health;
  const healthText = h
    ? `${h.healthy ? 'healthy' : 'unhealthy'}${h.failing ? ` (${h.failing}${h.detail ? `: ${h.detail}` : ''})` : ''}${h.checkedAt ? `, checked ${h.checkedAt}` : ''}`
    : null;
  const op = t.operation;
  const e = t.lastError;
  return [
    ['slug:', t.slug], ['name:', t.displayName],
    ['phase:', `${t.phase}${t.desired ? ` (desired: ${t.desired})` : ''}`],
    ['health:', healthText], ['version:', t.appVersion], ['plan:', t.plan], ['url:', t.url], ['port:', t.port],
    ['services:', Object.entries(t.services ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')],
    ['operation:', op ? `${op.kind} ${op.id}, step ${op.step || '-'}, since ${op.startedAt || '-'}` : null],
    ['last error:', e ? `${e.code}: ${e.message} (${e.at || '-'})` : null],
    ['created:', t.createdAt], ['updated:', t.updatedAt]
  ];
}

/** --delete-data without --yes: the slug typed on a terminal, or no deletion. */
async function confirm(slug: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    fail(EXIT.usage, 'CONFIRMATION_REQUIRED', `--delete-data deletes ${slug}'s data for good; with no terminal to confirm on, add --yes`);
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`This deletes tenant "${slug}" and its data (database, files) for good.\nType the slug to confirm: `).catch(() => '');
  rl.close();
  if (answer !== slug) fail(EXIT.usage, 'CONFIRMATION_REQUIRED', `you typed "${answer}", not "${slug}"; nothing deleted`);
}

/** Copies the plain-text log stream to stdout until the container stops (exit 0) or the stream breaks (exit 3). */
async function followLog(api: Api, path: string): Promise<void> {
  const res = await stream(api, path).catch((e: unknown) => unreachable(api, e));
  await new Promise<void>((resolve, reject) => {
    res.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    res.on('end', resolve);
    res.on('error', reject);
    res.on('close', () => (res.complete ? resolve() : reject(new TransportError('the connection broke mid-response', 'incomplete'))));
  }).catch((e: unknown) => unreachable(api, e));
}

export async function tenantMain(argv: readonly string[]): Promise<void> {
  const [sub = '', ...rest] = argv;
  if (sub === '-h' || sub === '--help') return out(USAGE);
  if (sub === '') usageError(`missing a tenant command (${Object.keys(COMMANDS).join(', ')})`, 'tenant');
  const command = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!command) usageError(`unknown tenant command "${sub}"`, 'tenant');
  await command(rest);
}
