// The CLI's API commands must start fast: only admin-db.ts (loaded by
// "berth admin" alone) may load the server's code (fastify, mongodb,
// dockerode, config). Every other module imports node: built-ins, its
// neighbours in cli/, and types; api-types.ts may also take constants from
// the contract, which test/contract/contract.test.ts keeps free of server code.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ROOT_DIR } from '../../src/config/config.js';

const dir = path.join(ROOT_DIR, 'orchestrator/src/cli');
/** Every import or re-export that stays in the compiled JavaScript: [statement, specifier]. */
const runtimeImports = (source: string) =>
  [...source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)]
    .map((m) => [m[0], m[1]!] as const)
    .filter(([statement]) => !/^(?:import|export)\s*\{\s*type\s[^}]*\}/.test(statement) || /,\s*(?!type\b)\w/.test(statement));
const dynamicImports = (source: string) => [...source.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]!);

t.test('API commands load no server code', async (t) => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && f !== 'admin-db.ts');
  t.ok(files.includes('berth.ts') && files.includes('tenant.ts'), `${files.length} modules read`);
  for (const file of files) {
    const source = await readFile(path.join(dir, file), 'utf8');
    for (const [, spec] of runtimeImports(source)) {
      const allowed = spec.startsWith('node:') || (spec.startsWith('./') && spec !== './admin-db.js') || (file === 'api-types.ts' && spec === '../contract/index.js');
      t.ok(allowed, `${file} imports ${spec} at run time`);
    }
    for (const spec of dynamicImports(source)) t.ok(spec.startsWith('node:') || spec.startsWith('./'), `${file} loads ${spec}`);
  }
});

t.test('the crafted checks catch a static server import', async (t) => {
  t.same(runtimeImports(`import { MongoClient } from 'mongodb';`).map(([, s]) => s), ['mongodb']);
  t.same(runtimeImports(`import type { Db } from 'mongodb';`), []);
  t.same(runtimeImports(`import { type Db } from 'mongodb';`), []);
  t.same(runtimeImports(`export { SCOPES, type Scope } from '../auth/auth.types.js';`).map(([, s]) => s), ['../auth/auth.types.js']);
});
