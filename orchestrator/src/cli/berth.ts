#!/usr/bin/env node
// berth: the command line for Berth's DevOps API, for people and CI pipelines
// (scripts/berth launches it), and for the host-local admin commands.
// Each command group loads only when called; the admin one alone loads the
// platform's database code.
import { CliExit, errorLine, EXIT, usageError } from './exit.js';
import { out } from './output.js';

const USAGE = `Usage: berth <command> [arguments]

Drives Berth's DevOps API: tenants (each team's app, database and object
store), their backups and restores, bulk upgrades of their app, the host's
capacity, and API tokens; and, on the platform's host, the first admin token
and the first operator.

  berth tenant create <slug> [--name NAME] [--plan PLAN] [--wait [--timeout S]]
  berth tenant list [--phase PHASE] [--json]
  berth tenant status <slug> [--json]
  berth tenant start|stop|restart <slug> [--wait [--timeout S]]
  berth tenant delete <slug> [--delete-data [--yes]] [--wait [--timeout S]]
  berth tenant logs <slug> [--service S] [--tail N] [--follow]
  berth tenant owner-link <slug> [--json] [--wait [--timeout S]]
  berth backup list [<slug>] [--json]
  berth backup create <slug> [--wait [--timeout S]] | show <slug> <id> | delete <slug> <id> --yes
  berth backup preview|restore <slug> <id> [--into NEW] [--yes] [--wait [--timeout S]]
  berth backup download <slug> <id> --out FILE
  berth upgrade --to X (--all | --tenants a,b | --filter phase=P,version=V,prefix=P)
                [--canary N] [--concurrency N] [--max-failures N] [--auto-approve] [--wait]
  berth upgrade preview|list|status|approve|pause|resume|cancel|rollback ...
  berth versions [--json]
  berth capacity [--json]
  berth capacity measure --teams N --minutes M [--check] [--wait] | report [ID] | list | cancel ID
  berth token create --name NAME --scope read|write|admin [--json]
  berth token list [--json]
  berth token revoke <id>
  berth admin token create|list|revoke ...      (on the host, no API needed)
  berth admin operator bootstrap --email EMAIL --name NAME

Every command takes -h/--help ("berth tenant create --help"). Flags may come
before or after the argument, and as --flag=value.

Environment:
  BERTH_URL      the API (default http://127.0.0.1:7300)
  BERTH_TOKEN    an API token (berth_<id>_<secret>), needed by every command
                 but --help and admin. An admin makes one with "berth token
                 create"; scripts/platform-up prints the first admin token.

Output: tables for people, --json for machines (the API's JSON); operation
ids, tokens and log lines on stdout; --wait progress and errors on stderr.
An error is one line: "berth: CODE: message".

Exit codes:
  0  success
  1  the API refused or failed the request (4xx/5xx), e.g. SLUG_INVALID, FORBIDDEN
  2  usage error: unknown flag, missing or bad argument, BERTH_TOKEN unset,
     --delete-data, a restore over a team or a backup's delete not
     confirmed (--yes), a download's file exists
  3  cannot reach the API (connection refused, DNS, timeout, TLS, stream lost)
  4  --wait: the operation failed; its code and message are printed (an
     upgrade job: a tenant failed, or the job halted or was cancelled)
  5  --wait: gave up after --timeout seconds; the operation may still be running`;

type Main = (argv: readonly string[]) => Promise<void>;

const GROUPS: Record<string, () => Promise<Main>> = {
  tenant: async () => (await import('./tenant.js')).tenantMain,
  backup: async () => (await import('./backup.js')).backupMain,
  token: async () => (await import('./token.js')).tokenMain,
  upgrade: async () => (await import('./upgrade.js')).upgradeMain,
  versions: async () => (await import('./versions.js')).versionsMain,
  capacity: async () => (await import('./capacity.js')).capacityMain,
  admin: async () => (await import('./admin.js')).adminMain
};
const ALIASES: Record<string, string> = { tenants: 'tenant', backups: 'backup', tokens: 'token', upgrades: 'upgrade' };

async function main(argv: readonly string[]): Promise<void> {
  const [cmd = '', ...rest] = argv;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') return out(USAGE);
  if (cmd === '') {
    process.stderr.write(`${USAGE}\n`);
    throw new CliExit(EXIT.usage);
  }
  const name = ALIASES[cmd] ?? cmd;
  const load = Object.hasOwn(GROUPS, name) ? GROUPS[name] : undefined;
  if (!load) usageError(`unknown command "${cmd}" (tenant, backup, upgrade, versions, capacity, token, admin)`);
  await (await load())(rest);
}

// A signal ends the CLI at once with the shell's code for it; open requests and
// streams close with the process.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.on(signal, () => process.exit(code));
// A closed stdout (berth ... | head): stop quietly, as a shell command would.
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 141 : EXIT.api));

main(process.argv.slice(2)).then(
  () => process.exit(EXIT.ok),
  (e: unknown) => {
    if (e instanceof CliExit) {
      if (e.status !== 0 && e.code) process.stderr.write(errorLine(e));
      process.exit(e.status);
    }
    process.stderr.write(errorLine(new CliExit(EXIT.api, 'FAILED', (e as Error)?.message ?? String(e))));
    process.exit(EXIT.api);
  }
);
