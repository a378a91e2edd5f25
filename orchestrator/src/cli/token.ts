// berth token ...: create, list and revoke API tokens through the API (needs
// an admin token). The first admin token is made on the host: berth admin token.
import { parseArgs } from './args.js';
import { SCOPES, type TokenCreated, type TokenList } from './api-types.js';
import { usageError } from './exit.js';
import { apiFromEnv, call, seg } from './http.js';
import { err, inline, json, out, table } from './output.js';

const USAGE = `Usage: berth token <command> [arguments]

  create --name NAME --scope read|write|admin [--json]
  list [--json]
  revoke <id>

API tokens for CI and scripts; managing them needs an admin token. Run
"berth token <command> --help" for details; exit codes are in "berth --help".
The first admin token is made on the platform's host: "berth admin token".`;

const HELP = {
  create: `Usage: berth token create --name NAME --scope read|write|admin [--json]

Makes an API token and prints it alone on stdout (TOKEN=$(berth token create
...)); its id and scope go to stderr. The token is shown only this once.

  --name NAME      what it is for: 1-64 letters, digits, space, ".", "_", "-"
  --scope SCOPE    read (look), write (also change tenants) or admin (also tokens)
  --json           the API's JSON ({token, id, name, scope, createdAt}) instead`,
  list: `Usage: berth token list [--json]

Lists API tokens, revoked ones too, as a table: ID NAME SCOPE CREATED
LAST-USED REVOKED. Never their secrets.

  --json           the API's JSON ({"tokens": [...]}) instead`,
  revoke: `Usage: berth token revoke <id>

Revokes an API token at once (the ID column of "berth token list"). Revoking
twice is harmless.`
};

/** --name and --scope, checked before any call. */
export function nameAndScope(name: string | undefined, scope: string | undefined, cmd: string): { name: string; scope: (typeof SCOPES)[number] } {
  if (!name) usageError('missing --name NAME', cmd);
  if (!scope) usageError('missing --scope read|write|admin', cmd);
  if (!(SCOPES as readonly string[]).includes(scope)) usageError(`--scope must be read, write or admin, got "${scope}"`, cmd);
  return { name, scope: scope as (typeof SCOPES)[number] };
}

/** An ISO time to the second: lists need no milliseconds. */
const when = (iso: string | undefined) => iso?.replace(/\.[0-9]+Z$/, 'Z');

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<void>> = {
  async create(argv) {
    const cmd = 'token create';
    const a = parseArgs({ cmd, help: HELP.create, values: ['--name', '--scope'], switches: ['--json'] }, argv);
    const body = nameAndScope(a.get('--name'), a.get('--scope'), cmd);
    const api = apiFromEnv();
    const made = await call<TokenCreated>(api, 'POST', '/api/v1/tokens', body);
    if (a.has('--json')) return json(made);
    out(inline(made.token));
    err(`token ${inline(made.id)} (${inline(JSON.stringify(made.name))}, scope ${inline(made.scope)}) created; this is the only time it is shown`);
  },

  async list(argv) {
    const a = parseArgs({ cmd: 'token list', help: HELP.list, switches: ['--json'] }, argv);
    const api = apiFromEnv();
    const body = await call<TokenList>(api, 'GET', '/api/v1/tokens');
    if (a.has('--json')) return json(body);
    out(table([
      ['ID', 'NAME', 'SCOPE', 'CREATED', 'LAST-USED', 'REVOKED'],
      ...body.tokens.map((t) => [t.id, t.name, t.scope, when(t.createdAt), when(t.lastUsedAt), when(t.revokedAt)])
    ]));
  },

  async revoke(argv) {
    const a = parseArgs({ cmd: 'token revoke', help: HELP.revoke, positional: '<id>' }, argv);
    const api = apiFromEnv();
    await call(api, 'DELETE', `/api/v1/tokens/${seg(a.pos)}`);
    out(`revoked token ${a.pos}`);
  }
};

export async function tokenMain(argv: readonly string[]): Promise<void> {
  const [sub = '', ...rest] = argv;
  if (sub === '-h' || sub === '--help') return out(USAGE);
  if (sub === '') usageError('missing a token command (create, list, revoke)', 'token');
  const command = Object.hasOwn(COMMANDS, sub) ? COMMANDS[sub] : undefined;
  if (!command) usageError(`unknown token command "${sub}"`, 'token');
  await command(rest);
}
