// berth admin operator bootstrap, run as an operator runs it (scripts/berth), against a FerretDB
// container of our own (named through the same environment variables).
import t from 'tap';
import { execFile } from 'node:child_process';
import { ROOT_DIR } from '../../src/config/config.js';
import { startTestDb } from '../auth/fixtures/harness.js';
import { script } from '../helpers/berth-cli.js';

const testDb = await startTestDb(t, 'opcli');

const { BERTH_MONGO_URL: _external, BERTH_PLATFORM_KEY: _key, ...inherited } = process.env;
const env = {
  ...inherited,
  BERTH_HOME: testDb.home,
  BERTH_CONSOLE_URL: 'https://console.example.test/',
  BERTH_PLATFORM_DB_CONTAINER: testDb.container,
  BERTH_MONGO_DB: testDb.dbName
};

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script, 'admin', 'operator', ...args], { cwd: ROOT_DIR, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr.trimEnd() });
    });
  });
}

t.test('bootstrap prints only the setup link, and makes a pending operator', async (t) => {
  const one = await cli('bootstrap', '--email', 'Root@Example.org', '--name', 'Root');
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, /^https:\/\/console\.example\.test\/setup\/[A-Za-z0-9_-]{43}\n$/, 'the link alone on stdout');
  const operators = await testDb.db.collection('operators').find({}).toArray();
  t.equal(operators.length, 1);
  t.match(operators[0], { email: 'root@example.org', name: 'Root', status: 'pending', createdBy: 'bootstrap' });
  t.notOk(JSON.stringify(operators).includes(one.stdout.trim().split('/setup/')[1]!), 'only a hash of the token is stored');
});

t.test('a second bootstrap is refused with one line and exit 1', async (t) => {
  const two = await cli('bootstrap', '--email', 'other@example.org', '--name', 'Other');
  t.equal(two.code, 1);
  t.equal(two.stdout, '');
  t.match(two.stderr, /^berth: OPERATOR_EXISTS: an operator already exists/);
  t.equal(two.stderr.split('\n').length, 1, 'one line');
  t.equal(await testDb.db.collection('operators').countDocuments({}), 1);
});

t.test('--help and usage errors', async (t) => {
  const help = await cli('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: berth admin operator bootstrap --email EMAIL --name NAME/);
  const missing = await cli('bootstrap', '--email', 'x@example.org');
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^berth: USAGE: missing --name NAME \(see: berth admin operator bootstrap --help\)$/);
});
