// scripts/fuzz-api: schemathesis (every check) against the API document, as
// an admin token, a read token and no token, on a platform of its own. No
// failure of any kind, no bystander touched, no write accepted without its
// scope. A tap test rather than a step before tap in scripts/test, so its
// outcome counts in the suite's "tests: N passed, N failed" line like any
// other and a failure here does not stop the rest of the suite.
import t from 'tap';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT_DIR } from '../../src/config/config.js';

const IDENTITIES = ['admin', 'read', 'none'];

t.test('the API answers as its document says, under three identities', async (t) => {
  const dir = t.testdir({});
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', [path.join(ROOT_DIR, 'scripts/fuzz-api'), '--report-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (exit) => resolve({ code: exit, stdout, stderr }));
  });
  for (const line of stdout.split('\n').filter((l) => l.startsWith('fuzz'))) t.comment(line);
  t.equal(code, 0, 'scripts/fuzz-api exits 0', { stderr: stderr.slice(-8000) });
  for (const identity of IDENTITIES) {
    const line = stdout.split('\n').find((l) => l.startsWith(`fuzz ${identity}: `));
    t.match(line, /: [1-9]\d* cases, 0 failures, 0 errors in /, `${identity}: cases ran, none failed`);
  }
  t.match(stdout, /^fuzz-platform: \d+ writes reached a route; 0 accepted without their scope$/m);
  t.notMatch(stdout, /was changed|is gone|was revoked|reached bystander/, 'no bystander touched, and no write reached one');
});
