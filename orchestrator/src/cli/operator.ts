// berth-operator: makes the first console operator, straight in the platform
// database (there is no one yet to sign in and add them through the API).
//   node orchestrator/dist/cli/operator.js bootstrap --email E --name N
// Prints only the one-time setup link on stdout (it works once, for 24 h);
// refuses, exit 1 with one line on stderr, once any operator exists.
import { runCli, UsageError } from './run-cli.js';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { loadPlatformKey, SecretBox } from '../crypto/secret-box.js';
import { connectDatabase } from '../db/mongo.js';
import { jsonLogger } from '../log.js';
import { createOperatorsModule, signInLimitOf } from '../operators/operators.module.js';
import { ensurePlatformDb } from '../platform/platform-db.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';

const USAGE = `Usage: berth-operator bootstrap --email EMAIL --name NAME

Makes the first console operator (pending) and prints their one-time setup
link (24 h) on stdout. Refuses once any operator exists: operators add
others in the console. Exit codes: 0 done, 1 refused or failed, 2 usage.`;


async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command] = positionals;
  if (command !== 'bootstrap') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (!values.email) throw new UsageError('bootstrap needs --email EMAIL');
  if (!values.name) throw new UsageError('bootstrap needs --name NAME');

  const config = loadConfig();
  const runtime = new DockerRuntime(jsonLogger('warn'), config.dockerSocket);
  const database = await connectDatabase(await ensurePlatformDb(runtime, config), config.mongoDb);
  try {
    const box = new SecretBox(await loadPlatformKey(config.home, config.platformKey));
    const operators = createOperatorsModule({ db: database.db, box, consoleUrl: config.consoleUrl, signInLimit: signInLimitOf(config) });
    await operators.init();
    const { setupUrl } = await operators.operators.bootstrap({ email: values.email, name: values.name });
    process.stdout.write(`${setupUrl}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

runCli('berth-operator', main, 2);
