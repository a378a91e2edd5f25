// The work behind "berth admin": the platform database, reached as the
// orchestrator reaches it (its settings, its container, its socket). Loaded
// only by admin commands: mongodb and dockerode stay out of the API commands.
import { TokensService, type TokenInfo } from '../auth/tokens.service.js';
import { loadConfig } from '../config/config.js';
import { loadPlatformKey, SecretBox } from '../crypto/secret-box.js';
import { connectDatabase } from '../db/mongo.js';
import { BerthError } from '../errors.js';
import { jsonLogger } from '../log.js';
import { createOperatorsModule, signInLimitOf } from '../operators/operators.module.js';
import { ensurePlatformDb } from '../platform/platform-db.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { EXIT, fail } from './exit.js';
import { out, table } from './output.js';

export type AdminCommand =
  | { kind: 'token-create'; name: string; scope: 'read' | 'write' | 'admin'; ifNone: boolean }
  | { kind: 'token-list'; json: boolean }
  | { kind: 'token-revoke'; id: string }
  | { kind: 'operator-bootstrap'; email: string; name: string };

export async function runAdmin(command: AdminCommand): Promise<void> {
  try {
    await run(command);
  } catch (e) {
    if (e instanceof BerthError) fail(EXIT.api, e.code, e.message);
    throw e;
  }
}

async function run(command: AdminCommand): Promise<void> {
  const config = loadConfig();
  const runtime = new DockerRuntime(jsonLogger('warn'), config.dockerSocket);
  const database = await connectDatabase(await ensurePlatformDb(runtime, config), config.mongoDb);
  try {
    if (command.kind === 'operator-bootstrap') {
      const box = new SecretBox(await loadPlatformKey(config.home, config.platformKey));
      const operators = createOperatorsModule({ db: database.db, box, consoleUrl: config.consoleUrl, signInLimit: signInLimitOf(config) });
      await operators.init();
      const { setupUrl } = await operators.operators.bootstrap({ email: command.email, name: command.name });
      return out(setupUrl);
    }
    const tokens = new TokensService(database.db);
    await tokens.init();
    if (command.kind === 'token-create') {
      if (command.ifNone && (await tokens.count()) > 0) return;
      out((await tokens.create({ name: command.name, scope: command.scope })).token);
    } else if (command.kind === 'token-revoke') {
      await tokens.revoke(command.id);
      out(`token ${command.id} revoked`);
    } else {
      const list = await tokens.list();
      out(command.json ? JSON.stringify(list, null, 2) : tokenTable(list));
    }
  } finally {
    await database.close();
  }
}

function tokenTable(list: TokenInfo[]): string {
  if (list.length === 0) return 'no API tokens yet; make one with: berth admin token create --name NAME --scope admin';
  const day = (d?: Date) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');
  return table([['ID', 'SCOPE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...list.map((t) => [t.id, t.scope, t.name, day(t.createdAt), day(t.lastUsedAt), day(t.revokedAt)])]);
}
