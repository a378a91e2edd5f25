// One owner of operations (STYLE.md 12): only tenants/operations.ts begins or
// ends an operation, reports its steps, changes a tenant's `phase` or records
// the operation metric. Everything else asks it. A pure scan of the source:
// a file that writes phase itself, or takes the lock, fails here by name.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const OWNER = 'tenants/operations.ts';

/** What only the owner may do, each with a line that does it and one that must not count. */
const RULES: { what: string; pattern: RegExp; does: string; doesNot: string }[] = [
  { what: 'takes an operation lock', pattern: /\.beginOperation\(/, does: 'await this.repo.beginOperation(slug, op, allowed)', doesNot: 'async beginOperation(slug: string) {' },
  { what: 'ends an operation', pattern: /\.endOperation\(/, does: 'await this.d.repo.endOperation(slug, id, {})', doesNot: 'async endOperation(slug: string) {' },
  { what: 'records an operation step', pattern: /\.setStep\(/, does: 'await repo.setStep(slug, id, name)', doesNot: 'async setStep(slug: string) {' },
  { what: 'makes an operation', pattern: /\bnewOperation\(/, does: "const op = this.tenants.newOperation('heal');", doesNot: "const op = operations.heal(doc, 'app');" },
  { what: 'publishes a phase change', pattern: /\b(this|tenants|t)\.transition\(|type:\s*'tenant\.phase'/, does: "await this.tenants.transition(slug, 'running', 'degraded')", doesNot: "await this.d.repo.transition(job._id, from, to); // an upgrade job's state, not a tenant's phase" },
  { what: 'writes phase through the repository', pattern: /\$set:\s*\{[^}]*\bphase\s*:|\bset:\s*\{[^}]*\bphase\s*:|,\s*\{\s*phase:\s*'/, does: "await this.repo.update(doc._id, { $set: { health, phase: 'running' } });", doesNot: "return this.tenants.find(filter.phase ? { phase: filter.phase } : {});" },
  { what: 'publishes an operation event', pattern: /type:\s*'operation\.(started|step|succeeded|failed|resumed)'/, does: "await events.publish({ type: 'operation.step', tenant })", doesNot: "if (e.type === 'operation.succeeded') done();" },
  { what: 'records the operation metric', pattern: /berth_operation_duration_seconds/, does: "metrics.observe('berth_operation_duration_seconds', …)", doesNot: "metrics.inc('berth_probe_failures_total', …)" }
];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return Promise.resolve(e.name.endsWith('.ts') ? [full] : []);
  }));
  return nested.flat();
}

t.test('each rule catches the line it is about and nothing like it (so a pass below means something)', async (t) => {
  for (const rule of RULES) {
    t.match(rule.does, rule.pattern, `${rule.what}: caught`);
    t.notMatch(rule.doesNot, rule.pattern, `${rule.what}: a look-alike is not`);
  }
});

t.test(`only ${OWNER} begins and ends operations, reports steps and changes phase`, async (t) => {
  const files = await sources(SRC);
  t.ok(files.length > 50, `scanned ${files.length} source files`);
  const owner = await readFile(path.join(SRC, OWNER), 'utf8');
  for (const rule of RULES) t.match(owner, rule.pattern, `${OWNER} itself ${rule.what} (the rule still looks for what the owner does)`);

  const offences: string[] = [];
  for (const file of files) {
    const rel = path.relative(SRC, file).split(path.sep).join('/');
    if (rel === OWNER) continue;
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return; // comments may name what they do not do
      for (const rule of RULES) {
        if (rule.pattern.test(line)) offences.push(`orchestrator/src/${rel}:${i + 1} ${rule.what}: ask ${OWNER} instead (${line.trim().slice(0, 120)})`);
      }
    });
  }
  t.same(offences, [], offences.length ? `\n${offences.join('\n')}` : 'no other file does what only the owner may');
});
