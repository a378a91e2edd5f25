// berth admin token: the first API token, made as scripts/platform-up makes it
// (scripts/berth, straight in the platform database), against a FerretDB
// container of our own (named through the same environment variables).
import t from 'tap';
import { execFile } from 'node:child_process';
import { TokensService } from '../../src/auth/tokens.service.js';
import { ROOT_DIR } from '../../src/config/config.js';
import { script } from '../helpers/berth-cli.js';
import { startTestDb } from './fixtures/harness.js';

const testDb = await startTestDb(t, 'cli');
const tokens = new TokensService(testDb.db);

const { BERTH_MONGO_URL: _external, ...inherited } = process.env;
const env = {
  ...inherited,
  BERTH_HOME: testDb.home,
  BERTH_PLATFORM_DB_CONTAINER: testDb.container,
  BERTH_MONGO_DB: testDb.dbName
};

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script, 'admin', 'token', ...args], { cwd: ROOT_DIR, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr.trimEnd() });
    });
  });
}

const FORMAT = /^berth_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/;
let first = '';

t.test('create --if-none prints a token the first time, and nothing the second', async (t) => {
  const one = await cli('create', '--name', 'bootstrap admin', '--scope', 'admin', '--if-none');
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, FORMAT, 'the token alone on stdout');
  first = one.stdout.trim();
  t.same(await tokens.authenticate(first), { tokenId: first.slice(6, 18), name: 'bootstrap admin', scope: 'admin' }, 'it is a working admin token');

  const two = await cli('create', '--name', 'bootstrap admin', '--scope', 'admin', '--if-none');
  t.equal(two.code, 0);
  t.equal(two.stdout, '', 'nothing printed');
  t.equal(await tokens.count(), 1, 'and nothing made');
});

t.test('create without --if-none always makes one; list shows ids, never tokens', async (t) => {
  const made = await cli('create', '--name', 'ci', '--scope', 'write');
  t.equal(made.code, 0, made.stderr);
  t.match(made.stdout, FORMAT);
  const listed = await cli('list');
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^ID +SCOPE +NAME/);
  t.match(listed.stdout, new RegExp(`${first.slice(6, 18)} +admin +bootstrap admin`));
  t.notOk(listed.stdout.includes(first.slice(19)) || listed.stdout.includes(made.stdout.trim().slice(19)), 'no secret in the list');
  const json = await cli('list', '--json');
  t.same((JSON.parse(json.stdout) as Array<{ name: string }>).map((x) => x.name), ['bootstrap admin', 'ci']);
});

t.test('revoke <id> revokes; errors are one line on stderr, exit 1 when refused, 2 for usage', async (t) => {
  const id = first.slice(6, 18);
  const revoked = await cli('revoke', id);
  t.equal(revoked.code, 0, revoked.stderr);
  t.equal(await tokens.authenticate(first), null, 'the token no longer works');

  const cases: Array<[string[], RegExp, number]> = [
    [['revoke', 'abcdefabcdef'], /^berth: TOKEN_NOT_FOUND: /, 1],
    [['create', '--name', 'bad/name', '--scope', 'read'], /^berth: VALIDATION_FAILED: /, 1],
    [['create', '--name', 'x'], /^berth: USAGE: .*--scope/, 2],
    [['frobnicate'], /^berth: USAGE: unknown admin token command/, 2],
    [['list', '--nope'], /^berth: USAGE: .*--nope/, 2]
  ];
  for (const [args, want, code] of cases) {
    const r = await cli(...args);
    t.equal(r.code, code, args.join(' '));
    t.match(r.stderr, want);
    t.equal(r.stderr.split('\n').length, 1, 'one line');
    t.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test('--help prints usage and exits 0', async (t) => {
  const r = await cli('--help');
  t.equal(r.code, 0);
  t.match(r.stdout, /create --name NAME --scope read\|write\|admin \[--if-none\]/);
});
