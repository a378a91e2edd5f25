// `berth tenant list` from start to answer (issue 11: ≤ 150 ms on this
// machine), against a real orchestrator (startTestPlatform: its own platform
// database, nginx and home) on a 127.0.0.1 listen, with stopped stand-in
// tenants in the registry. Yardsticks in the same run, on the same endpoint
// and token: curl alone (the HTTP floor), `node -e ''` (Node's start-up
// floor), and the bash CLI this one replaced (scripts/berth + its
// scripts/lib/berth-*.sh at BASE, from git), when git still has it.
// Commands run with this process's environment: when NODE_EXTRA_CA_CERTS is
// set (it is on this machine), plain `node` pays for reading it at start, and
// the launcher hands it to the CLI instead (scripts/berth); the table shows
// node's floor with and without it.
// Every sample counts (warm-up runs are made first and never counted).
// Prints what it ran with and a table, writes
// bench/results/cli-startup-<iso>.json; asserts nothing; removes what it made.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../orchestrator/src/config/config.js';
import { loadPlatformKey, SecretBox } from '../orchestrator/src/crypto/secret-box.js';
import type { TenantDoc } from '../orchestrator/src/tenants/tenant.types.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const WARMUP = 3;
const TENANTS = 50;
const TARGET_MS = 150;
/** The last commit with the bash CLI. */
const BASE = process.env.BENCH_BASE ?? '37d95521b487d99b87ac069e8b3eabe0a7f30b93';
const OLD_FILES = ['scripts/berth', ...['core', 'wait', 'tenant', 'token', 'upgrade'].map((f) => `scripts/lib/berth-${f}.sh`)];

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const round = (x: number) => Number(x.toFixed(1));

function timed(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile(file, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve({ ms, stdout });
    });
    child.stdin?.end(input ?? '');
  });
}

interface Row { what: string; samples: number[]; target?: number }

async function measure(what: string, run: () => Promise<{ ms: number; stdout: string }>, check: (stdout: string) => boolean, target?: number): Promise<Row> {
  for (let i = 0; i < WARMUP; i++) if (!check((await run()).stdout)) throw new Error(`${what}: unexpected output`);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { ms, stdout } = await run();
    if (!check(stdout)) throw new Error(`${what}: unexpected output`);
    samples.push(ms);
  }
  return { what, samples, target };
}

/** The bash CLI as it was at BASE, in a directory of its own; undefined when git no longer has it. */
async function oldCli(dir: string): Promise<string | undefined> {
  try {
    for (const f of OLD_FILES) {
      const text = execFileSync('git', ['show', `${BASE}:${f}`], { cwd: ROOT_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      await mkdir(path.join(dir, path.dirname(f)), { recursive: true });
      await writeFile(path.join(dir, f), text, { mode: 0o755 });
    }
    return path.join(dir, 'scripts/berth');
  } catch {
    return undefined;
  }
}

const cli = path.join(ROOT_DIR, 'scripts/berth');
// Built now, so the launcher's "build when stale" never lands in a sample.
execFileSync('npm', ['run', '--silent', 'build', '-w', 'orchestrator'], { cwd: ROOT_DIR, stdio: 'inherit' });

// The platform helper loads tap (for its test logs), whose default 30 s
// timeout would end a bench mid-run and skip its clean-up.
process.env.TAP_TIMEOUT ??= '0';
const { startTestPlatform } = await import('../orchestrator/test/helpers/platform.js');
const tp = await startTestPlatform('clibench');
const scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-clibench-'));
const standIns: string[] = [];
const rows: Row[] = [];
let failure: unknown;
try {
  await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(tp.platform.app.server.address() as AddressInfo).port}`;
  const box = new SecretBox(await loadPlatformKey(tp.config.home, tp.config.platformKey));
  const tag = Math.random().toString(16).slice(2, 6);
  for (let i = 0; i < TENANTS; i++) {
    const slug = `cb${tag}-s${String(i).padStart(3, '0')}`;
    const now = new Date();
    const doc: TenantDoc = {
      _id: slug, displayName: `Stand-in ${i}`, plan: 'starter', template: 'tenant', templateVersion: 1, appVersion: tp.config.defaultAppVersion,
      phase: 'stopped', desired: 'stopped', port: 31_000 + i, secrets: box.seal({}, slug), createdAt: now, updatedAt: now
    };
    await tp.platform.repo.insert(doc);
    standIns.push(slug);
  }
  const env = { ...process.env, BERTH_URL: url, BERTH_TOKEN: tp.token, NODE_OPTIONS: '' };
  const listsAll = (out: string) => out.split('\n').filter((l) => l.startsWith(`cb${tag}-`)).length === TENANTS;
  const jsonAll = (out: string) => (JSON.parse(out) as { tenants: unknown[] }).tenants.length >= TENANTS;

  const old = await oldCli(scratch);
  const tried = [
    ['berth tenant list (scripts/berth → node dist/cli/berth.js)', () => timed('bash', [cli, 'tenant', 'list'], env), listsAll, TARGET_MS],
    ['node dist/cli/berth.js tenant list (no launcher, so Node reads NODE_EXTRA_CA_CERTS)', () => timed(process.execPath, [path.join(ROOT_DIR, 'orchestrator/dist/cli/berth.js'), 'tenant', 'list'], env), listsAll],
    ['berth tenant list --json', () => timed('bash', [cli, 'tenant', 'list', '--json'], env), jsonAll],
    ['yardstick: curl GET /api/v1/tenants', () => timed('curl', ['-sf', '-H', '@-', `${url}/api/v1/tenants`], env, `Authorization: Bearer ${tp.token}\n`), jsonAll],
    [`yardstick: node -e ''${env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS set)' : ''}`, () => timed(process.execPath, ['-e', ''], env), () => true],
    ...(env.NODE_EXTRA_CA_CERTS ? [["yardstick: node -e '' (NODE_EXTRA_CA_CERTS unset)", () => timed(process.execPath, ['-e', ''], { ...env, NODE_EXTRA_CA_CERTS: '' }), () => true]] : []),
    ...(old ? [[`yardstick: the bash CLI at ${BASE.slice(0, 7)} (curl + jq)`, () => timed('bash', [old, 'tenant', 'list'], env), listsAll]] : [])
  ] as [string, () => Promise<{ ms: number; stdout: string }>, (s: string) => boolean, number?][];
  // Interleaved rounds would be fairer to a machine whose load drifts; one block each keeps caches warm per command. Report the load.
  for (const [what, run, check, target] of tried) rows.push(await measure(what, run, check, target));
  if (!old) console.log(`(the bash CLI is not in git at ${BASE}: no yardstick for it)`);
} catch (err) {
  failure = err;
} finally {
  await tp.platform.db.db.collection<{ _id: string }>('tenants').deleteMany({ _id: { $in: standIns } }).catch(() => {});
  await tp.close();
  await rm(scratch, { recursive: true, force: true });
}

console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS ?? '(unset)'}: scripts/berth passes it to the CLI as BERTH_EXTRA_CA_CERTS (read only for https)`);
console.log(`${TENANTS} stopped stand-in tenants, ${SAMPLES} samples per command after ${WARMUP} warm-up runs, every sample counted`);
console.log('| command | p50 ms | p95 ms | min | max | target |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const p50 = pct(r.samples, 50);
  const verdict = r.target === undefined ? '' : `${r.target} (${p50 <= r.target ? 'met' : 'MISSED'} at p50, ${pct(r.samples, 95) <= r.target ? 'met' : 'missed'} at p95)`;
  console.log(`| ${r.what} | ${round(p50)} | ${round(pct(r.samples, 95))} | ${round(Math.min(...r.samples))} | ${round(Math.max(...r.samples))} | ${verdict} |`);
}
if (rows.length > 0) {
  const dir = path.join(ROOT_DIR, 'bench/results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `cli-startup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), tenants: TENANTS, rows }, null, 2)}\n`);
  console.log(`samples: ${file}`);
}
if (failure) {
  console.error(failure);
  process.exitCode = 1;
}
