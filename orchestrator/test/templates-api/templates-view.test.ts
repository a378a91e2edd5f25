// The templates page's data, pure: each plan's sleep times as the plan states
// them, Berth's defaults where it states none.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { parseTemplate } from '../../src/stacks/template-loader.js';
import { templateView } from '../../src/templates-api/templates.view.js';

const good = () => readFile(path.join(ROOT_DIR, 'templates', 'tenant.yaml'), 'utf8');

t.test("each plan's sleep times beside its limits; defaults where the plan states none", async (t) => {
  const text = (await good()).replace(/( {6})edge: \{ rate: 50r\/s[^\n]*\n/, (line, indent: string) => `${line}${indent}sleep: { pause: 5m, stop: never }\n`);
  t.not(text, await good(), 'the starter plan got a sleep block');
  const view = templateView(parseTemplate(text, 'templates/tenant.yaml'), {});
  t.same(view.plans.starter!.sleep, { pause: '5m', stop: 'never' }, 'as the plan states them');
  t.same(view.plans.team!.sleep, { pause: '15m', stop: '12h' }, "Berth's defaults");
  const half = templateView(parseTemplate(text.replace('sleep: { pause: 5m, stop: never }', 'sleep: { stop: 2d }'), 't.yaml'), {});
  t.same(half.plans.starter!.sleep, { pause: '15m', stop: '2d' }, 'the field left out defaulted');
});
