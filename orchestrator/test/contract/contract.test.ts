// The contract stays a leaf a browser bundle can take whole: from
// src/contract/index.ts, no import that survives compilation reaches fastify,
// mongodb, dockerode or a node: built-in; and it carries what its clients need.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import * as contract from '../../src/contract/index.js';
import { ErrorCodes } from '../../src/errors.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** The module specifiers of `file` that are still imports at run time (type-only ones are erased). */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const found: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      const typeOnly = c?.isTypeOnly || (c && !c.name && c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) found.push((st.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) {
      const named = st.exportClause && ts.isNamedExports(st.exportClause) ? st.exportClause.elements : undefined;
      if (!named || !named.every((e) => e.isTypeOnly)) found.push((st.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return found;
}

t.test('the contract imports nothing that needs a server at run time', async (t) => {
  const seen = new Set<string>();
  const outside: string[] = [];
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else outside.push(`${path.relative(src, file)} → ${spec}`);
    }
  };
  walk(path.join(src, 'contract/index.ts'));
  t.comment(`${seen.size} modules: ${[...seen].map((f) => path.relative(src, f)).join(', ')}`);
  t.ok(seen.size > 10, 'the walk followed the re-exports');
  t.same(outside, [], 'no package or node: built-in is imported at run time');
});

t.test('the contract carries what the console and the CLI need', async (t) => {
  t.same(contract.ErrorCodes, ErrorCodes, 'the error table BerthError uses');
  t.equal(contract.ErrorCodes.TENANT_EXISTS.status, 409);
  t.ok(contract.PHASES.includes('running'));
  t.ok(contract.OPERATION_KINDS.includes('create'));
  t.ok(contract.SLUG_PATTERN.test('acme') && !contract.SLUG_PATTERN.test('9lives'));
  t.ok(contract.RESERVED_SLUGS.has('www'));
  t.equal(contract.tenants.tenantSchema.$id, 'Tenant');
  t.equal(contract.upgrades.jobSchema.$id, 'UpgradeJob');
});
