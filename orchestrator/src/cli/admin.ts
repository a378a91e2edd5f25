// berth admin ...: what an operator does on the platform's host, straight in
// the platform database, before anyone can use the API: the first API token,
// the first console operator. Parsing is here; the database work (mongodb,
// dockerode) is loaded only when one of these commands runs.
import type { AdminCommand } from './admin-db.js';
import { parseArgs } from './args.js';
import { usageError } from './exit.js';
import { out } from './output.js';
import { nameAndScope } from './token.js';

const USAGE = `Usage: berth admin <command> [arguments]

  token create --name NAME --scope read|write|admin [--if-none]
  token list [--json]
  token revoke <id>
  operator bootstrap --email EMAIL --name NAME

On the platform's host, as root: works on the platform database directly
(BERTH_* settings as the orchestrator reads them), needs no BERTH_TOKEN.
This is how the first admin token and the first console operator are made;
after that use "berth token" and the console. Exit codes are in "berth --help".`;

const TOKEN_USAGE = `Usage: berth admin token <command> [arguments]

  create --name NAME --scope read|write|admin [--if-none]
  list [--json]
  revoke <id>

API tokens made, listed and revoked in the platform database, without the
API: the way to the first admin token. "berth token" does the same through
the API.`;

const HELP = {
  create: `Usage: berth admin token create --name NAME --scope read|write|admin [--if-none]

Makes an API token and prints it alone on stdout; it is shown only this once.

  --name NAME      what it is for: 1-64 letters, digits, space, ".", "_", "-"
  --scope SCOPE    read, write or admin
  --if-none        make one only if no token was ever made, else print
                   nothing and exit 0 (scripts/platform-up uses this)`,
  list: `Usage: berth admin token list [--json]

Lists API tokens: ID SCOPE NAME CREATED LAST USED REVOKED. Never their secrets.

  --json           the tokens as a JSON array instead`,
  revoke: `Usage: berth admin token revoke <id>

Revokes an API token at once.`,
  bootstrap: `Usage: berth admin operator bootstrap --email EMAIL --name NAME

Makes the first console operator (pending) and prints their one-time setup
link (24 h) on stdout. Refuses (OPERATOR_EXISTS, exit 1) once any operator
exists: operators add others in the console.`
};

function tokenCommand(argv: readonly string[]): AdminCommand {
  const [sub = '', ...rest] = argv;
  switch (sub) {
    case 'create': {
      const cmd = 'admin token create';
      const a = parseArgs({ cmd, help: HELP.create, values: ['--name', '--scope'], switches: ['--if-none'] }, rest);
      return { kind: 'token-create', ...nameAndScope(a.get('--name'), a.get('--scope'), cmd), ifNone: a.has('--if-none') };
    }
    case 'list':
      return { kind: 'token-list', json: parseArgs({ cmd: 'admin token list', help: HELP.list, switches: ['--json'] }, rest).has('--json') };
    case 'revoke':
      return { kind: 'token-revoke', id: parseArgs({ cmd: 'admin token revoke', help: HELP.revoke, positional: '<id>' }, rest).pos };
    case '-h':
    case '--help':
      out(TOKEN_USAGE);
      return usageDone();
    case '':
      usageError('missing an admin token command (create, list, revoke)', 'admin token');
    default:
      usageError(`unknown admin token command "${sub}"`, 'admin token');
  }
}

function operatorCommand(argv: readonly string[]): AdminCommand {
  const [sub = '', ...rest] = argv;
  const cmd = 'admin operator bootstrap';
  if (sub === '-h' || sub === '--help') {
    out(HELP.bootstrap);
    return usageDone();
  }
  if (sub !== 'bootstrap') usageError(sub ? `unknown admin operator command "${sub}"` : 'missing an admin operator command (bootstrap)', 'admin operator');
  const a = parseArgs({ cmd, help: HELP.bootstrap, values: ['--email', '--name'] }, rest);
  const email = a.get('--email');
  const name = a.get('--name');
  if (!email) usageError('missing --email EMAIL', cmd);
  if (!name) usageError('missing --name NAME', cmd);
  return { kind: 'operator-bootstrap', email, name };
}

/** Help was printed: nothing to run. */
class HelpShown extends Error {}
const usageDone = (): never => {
  throw new HelpShown();
};

export async function adminMain(argv: readonly string[]): Promise<void> {
  const [group = '', ...rest] = argv;
  let command: AdminCommand;
  try {
    if (group === '-h' || group === '--help') return out(USAGE);
    if (group === 'token' || group === 'tokens') command = tokenCommand(rest);
    else if (group === 'operator' || group === 'operators') command = operatorCommand(rest);
    else if (group === '') usageError('missing an admin command (token, operator)', 'admin');
    else usageError(`unknown admin command "${group}" (token, operator)`, 'admin');
  } catch (e) {
    if (e instanceof HelpShown) return;
    throw e;
  }
  const { runAdmin } = await import('./admin-db.js');
  await runAdmin(command);
}
