// berth-token: makes, lists and revokes API tokens straight in the platform
// database, without the API — the way to get the first admin token.
//   node orchestrator/dist/cli/token.js create --name NAME --scope admin|write|read [--if-none]
//   node orchestrator/dist/cli/token.js list [--json]
//   node orchestrator/dist/cli/token.js revoke <id>
// `create` prints the token alone on stdout so scripts can capture it; it is
// shown only this once. With --if-none it makes one only if no token was ever
// made, else prints nothing and exits 0 (the platform command uses this to
// print a first admin token exactly once).
import { runCli, UsageError } from './run-cli.js';
import { parseArgs } from 'node:util';
import { SCOPES, type Scope } from '../auth/auth.types.js';
import { TokensService, type TokenInfo } from '../auth/tokens.service.js';
import { loadConfig } from '../config/config.js';
import { connectDatabase } from '../db/mongo.js';
import { jsonLogger } from '../log.js';
import { ensurePlatformDb } from '../platform/platform-db.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';

const USAGE = 'Usage: berth-token create --name NAME --scope admin|write|read [--if-none] | list [--json] | revoke <id>';


async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      'if-none': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' }
    }
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, id] = positionals;
  if (command === 'create') {
    if (!values.name) throw new UsageError('create needs --name NAME');
    if (!values.scope || !SCOPES.includes(values.scope as Scope)) throw new UsageError(`create needs --scope ${SCOPES.join('|')}`);
  } else if (command === 'revoke') {
    if (!id) throw new UsageError('revoke needs a token id');
  } else if (command !== 'list') {
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }

  const config = loadConfig();
  const runtime = new DockerRuntime(jsonLogger('warn'), config.dockerSocket);
  const database = await connectDatabase(await ensurePlatformDb(runtime, config), config.mongoDb);
  try {
    const tokens = new TokensService(database.db);
    await tokens.init();
    if (command === 'create') {
      if (values['if-none'] && (await tokens.count()) > 0) return 0;
      const { token } = await tokens.create({ name: values.name!, scope: values.scope as Scope });
      process.stdout.write(`${token}\n`);
    } else if (command === 'revoke') {
      await tokens.revoke(id!);
      console.log(`token ${id} revoked`);
    } else {
      const list = await tokens.list();
      console.log(values.json ? JSON.stringify(list, null, 2) : table(list));
    }
    return 0;
  } finally {
    await database.close();
  }
}

function table(list: TokenInfo[]): string {
  if (list.length === 0) return 'no API tokens yet; make one with: berth-token create --name NAME --scope admin';
  const day = (d?: Date) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');
  const rows = [['ID', 'SCOPE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...list.map((t) => [t.id, t.scope, t.name, day(t.createdAt), day(t.lastUsedAt), day(t.revokedAt)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

runCli('berth-token', main, 1);
