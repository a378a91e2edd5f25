// Imports point down the layers (orchestrator/.dependency-cruiser.cjs), and the
// lint step in scripts/test keeps them so: dependency-cruiser passes on the real
// tree, and fails naming the rule when a copy of the tree gains one upward
// import, a leaf that reaches up, a cycle, or a folder no layer lists. It runs depcruise as the
// lint step does (argv array, no shell).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';

const run = promisify(execFile);
const orchestrator = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// npm puts the bin in the workspace's node_modules or hoists it to the root's.
const depcruise = ['node_modules/.bin/depcruise', '../node_modules/.bin/depcruise']
  .map((p) => path.join(orchestrator, p))
  .find((p) => existsSync(p));

interface Outcome {
  code: number;
  out: string;
}

async function cruise(cwd: string): Promise<Outcome> {
  if (!depcruise) throw new Error('dependency-cruiser is not installed: run npm ci');
  const argv = ['--config', '.dependency-cruiser.cjs', 'src'];
  try {
    const { stdout, stderr } = await run(depcruise, argv, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    // depcruise exits with the number of error-severity violations.
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A copy of what depcruise reads (sources, tsconfig, package.json for the module type, the rules) with files edited (or made: they start empty). */
async function treeWith(tt: Test, edits: Record<string, (text: string) => string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-layers-'));
  tt.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['src', 'tsconfig.json', 'package.json', '.dependency-cruiser.cjs']) {
    await cp(path.join(orchestrator, name), path.join(dir, name), { recursive: true });
  }
  for (const [file, edit] of Object.entries(edits)) {
    const target = path.join(dir, file);
    await mkdir(path.dirname(target), { recursive: true });
    const before = existsSync(target) ? await readFile(target, 'utf8') : '';
    const after = edit(before);
    tt.not(after, before, `${file} was edited in the copy`);
    await writeFile(target, after);
  }
  return dir;
}

const prepend = (line: string) => (text: string) => `${line}\n${text}`;

t.test('the real tree has no upward import and no cycle', async (tt) => {
  const { code, out } = await cruise(orchestrator);
  tt.comment(out.trim());
  tt.equal(code, 0, 'depcruise exits 0 (it exits with the number of violations)');
  tt.match(out, /no dependency violations found/);
  tt.notMatch(out, /error /, 'no rule is broken');
});

// One copy with one planted violation of each kind (a depcruise run is seconds
// of CPU): each is reported under its own rule, naming its own files.
t.test('each kind of violation fails, naming its rule and its import', async (tt) => {
  const dir = await treeWith(tt, {
    // An engine module importing a feature.
    'src/stacks/stack-runner.ts': prepend("import '../health/monitor.js';"),
    // A schema file (a leaf) importing a non-leaf.
    'src/tenants/tenants.schema.ts': prepend("import './tenants.repository.js';"),
    // A cycle inside one layer: labels.ts imports ownership.ts; the reverse closes it without crossing a layer.
    'src/runtime/ownership.ts': prepend("import './labels.js';"),
    // A module in a folder no layer lists.
    'src/dozing/idle.ts': () => "import { BerthError } from '../errors.js';\nexport const refused = BerthError;\n"
  });
  const { code, out } = await cruise(dir);
  tt.comment(out.trim());
  tt.not(code, 0, 'depcruise fails');
  tt.match(out, /engine-imports-higher: src\/stacks\/stack-runner\.ts → src\/health\/monitor\.ts/);
  tt.match(out, /leaf-imports-higher: src\/tenants\/tenants\.schema\.ts → src\/tenants\/tenants\.repository\.ts/);
  tt.match(out, /no-circular: src\/runtime\/(labels|ownership)\.ts/);
  tt.notMatch(out, /imports-higher: src\/runtime\//, 'the cycle breaks no layer rule, only no-circular');
  tt.match(out, /module-outside-the-layers: src\/dozing\/idle\.ts → src\/errors\.ts/);
  const rules = [...out.matchAll(/^\s*(?:error|warn)\s+([a-z-]+):/gm)].map((m) => m[1]);
  tt.same([...new Set(rules)].sort(), ['engine-imports-higher', 'leaf-imports-higher', 'module-outside-the-layers', 'no-circular'], 'and no other rule fires');
});
