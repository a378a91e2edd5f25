// Loads stack templates from templates/ and refuses a bad one with every
// problem found, each naming the file, the path inside it (a JSON pointer),
// the line and column, and what is wrong.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { BerthError } from '../errors.js';
import { templateSchema, type LoadedTemplate, type StackTemplate } from './template.schema.js';
import { dependencies, serviceOrder } from './service-order.js';
import { refusedAsks } from './hardening.js';
import { parseMemory } from './render.js';
import { planEdgeProblems } from './plan-edge.js';
import { planSleepProblems } from './plan-sleep.js';
import { planBackupProblems } from './plan-backup.js';

export interface TemplateProblem {
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** Variables the renderer provides; ${SECRET_<NAME>} come from x-berth.secrets. */
export const BUILTIN_VARIABLES = ['TENANT', 'APP_VERSION', 'IMAGE_APP', 'IMAGE_DB', 'IMAGE_STORAGE', 'PUBLIC_URL', 'OWNER_EMAIL', 'OWNER_SETUP_EXPIRES_AT', 'SMTP_URL', 'MAIL_FROM', 'STORAGE_QUOTA_BYTES', 'STORAGE_LIMIT_BYTES'] as const;
const VARIABLE = /\$\{([^}]*)\}/g;
const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,40}$/;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateShape = ajv.compile(templateSchema);

export async function loadTemplate(file: string): Promise<LoadedTemplate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BerthError('TEMPLATE_NOT_FOUND', `cannot read template ${file}: ${(err as Error).message}`, { file });
  }
  return parseTemplate(text, file);
}

export function parseTemplate(text: string, file: string): LoadedTemplate {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const fail = (problems: TemplateProblem[]): never => {
    const list = problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column}` : ''} ${p.path || '/'}: ${p.message}`);
    throw new BerthError('TEMPLATE_INVALID', `template ${file} is invalid:\n${list.join('\n')}`, { file, problems });
  };
  if (doc.errors.length > 0) {
    fail(doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { path: '', line: pos.line, column: pos.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
    }));
  }
  const value: unknown = doc.toJS();
  if (!validateShape(value)) {
    // A bad key gives two errors: its pattern's (naming the key) and a summary; keep the first.
    const errors = (validateShape.errors ?? []).filter((e) => e.keyword !== 'propertyNames');
    fail(dedupe(errors.map((e) => schemaProblem(e, doc, lines))));
  }
  const template = value as StackTemplate;
  const problems = checkMeaning(template).map((p) => locate(p, doc, lines));
  if (problems.length > 0) fail(problems);
  return { name: path.basename(file).replace(/\.ya?ml$/, ''), file, template };
}

/** Every template in a folder, by name (the file name without .yaml). */
export async function loadTemplates(dir: string): Promise<Map<string, LoadedTemplate>> {
  const entries = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out = new Map<string, LoadedTemplate>();
  for (const entry of entries) {
    const name = entry.replace(/\.ya?ml$/, '');
    if (!TEMPLATE_NAME.test(name)) {
      throw new BerthError('TEMPLATE_INVALID', `template file name ${path.join(dir, entry)} must be lower-case letters, digits and -`);
    }
    out.set(name, await loadTemplate(path.join(dir, entry)));
  }
  return out;
}

function schemaProblem(e: ErrorObject, doc: Document, lines: LineCounter): TemplateProblem {
  let pointer = e.instancePath;
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    pointer = `${pointer}/${escape(extra)}`;
    message = `"${extra}" is not allowed here${hint(extra)}`;
  } else if (e.keyword === 'required') {
    message = `missing required "${(e.params as { missingProperty: string }).missingProperty}"`;
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (e.propertyName !== undefined) {
    pointer = `${pointer}/${escape(e.propertyName)}`;
    message = `the name "${e.propertyName.slice(0, 64)}" ${message}`;
  }
  return locate({ path: pointer, message }, doc, lines);
}

function hint(property: string): string {
  if (property === 'ports') return ' (Berth publishes only the routed port, set in x-berth.route)';
  if (property === 'restart') return ' (Berth, not Docker, restarts unhealthy services)';
  if (property === 'networks') return ' (every tenant gets its own network)';
  return '';
}

function checkMeaning(t: StackTemplate): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const services = Object.keys(t.services);
  const x = t['x-berth'];
  if (!t.services[x.route.service]) {
    problems.push({ path: '/x-berth/route/service', message: `routes to "${x.route.service}", which is not a service (services: ${services.join(', ')})` });
  }
  if (!x.plans[x.default_plan]) {
    problems.push({ path: '/x-berth/default_plan', message: `"${x.default_plan}" is not one of the plans (${Object.keys(x.plans).join(', ')})` });
  }
  if (x.storage && !t.services[x.storage.service]) {
    problems.push({ path: '/x-berth/storage/service', message: `"${x.storage.service}" is not a service (services: ${services.join(', ')})` });
  } else if (x.storage?.service === x.route.service) {
    problems.push({ path: '/x-berth/storage/service', message: 'the routed service moves between two containers during upgrades; keep the files in another service' });
  }
  for (const [plan, { limits, allow, storage_quota: quota, edge, sleep, backup }] of Object.entries(x.plans)) {
    for (const [field, message] of planEdgeProblems(plan, edge)) problems.push({ path: `/x-berth/plans/${plan}/edge/${field}`, message });
    for (const [field, message] of planSleepProblems(plan, sleep)) problems.push({ path: `/x-berth/plans/${plan}/sleep/${field}`, message });
    for (const [field, message] of planBackupProblems(plan, backup)) problems.push({ path: `/x-berth/plans/${plan}/backup/${field}`, message });
    if (x.storage && quota === undefined) {
      problems.push({ path: `/x-berth/plans/${plan}`, message: `plan "${plan}" states no storage_quota, which x-berth.storage needs (e.g. storage_quota: 1g)` });
    }
    if (!x.storage && quota !== undefined) {
      problems.push({ path: `/x-berth/plans/${plan}/storage_quota`, message: 'a storage quota needs x-berth.storage to say which service holds the files and how to measure them' });
    }
    if (quota !== undefined && parseMemory(quota) <= 0) {
      problems.push({ path: `/x-berth/plans/${plan}/storage_quota`, message: 'must be more than 0' });
    }
    for (const name of services) {
      if (!limits[name]) problems.push({ path: `/x-berth/plans/${plan}/limits`, message: `plan "${plan}" gives no limits for service "${name}"` });
      for (const ask of refusedAsks(t.services[name]!, allow)) {
        problems.push({
          path: `/services/${name}/${ask.setting}`,
          message: `service "${name}" asks for ${ask.setting} ${ask.detail}, which plan "${plan}" does not allow; remove it, or add ${ask.allowance} to x-berth.plans.${plan}.allow`
        });
      }
    }
    for (const name of Object.keys(limits)) {
      if (!t.services[name]) problems.push({ path: `/x-berth/plans/${plan}/limits/${name}`, message: `limits for "${name}", which is not a service` });
    }
  }
  const declaredVolumes = new Set(Object.keys(t.volumes ?? {}));
  const known = new Set<string>([...BUILTIN_VARIABLES, ...(x.secrets ?? []).map((s) => `SECRET_${s}`)]);
  const variables = (value: unknown, base: string) => {
    for (const [pointer, text] of strings(value, base)) {
      for (const match of text.matchAll(VARIABLE)) {
        const variable = match[1] ?? '';
        if (!known.has(variable)) {
          problems.push({ path: pointer, message: `unknown variable \${${variable}} (known: ${[...known].join(', ')})` });
        }
      }
    }
  };
  variables(x.storage, '/x-berth/storage');
  for (const [name, svc] of Object.entries(t.services)) {
    const base = `/services/${name}`;
    for (const dep of dependencies(svc.depends_on)) {
      if (!t.services[dep]) problems.push({ path: `${base}/depends_on`, message: `depends on "${dep}", which is not a service` });
    }
    (svc.volumes ?? []).forEach((v, i) => {
      const volume = v.slice(0, v.indexOf(':'));
      if (!declaredVolumes.has(volume)) problems.push({ path: `${base}/volumes/${i}`, message: `volume "${volume}" is not declared under the top-level volumes` });
    });
    if ('http' in svc['x-berth'].probe && name !== x.route.service) {
      problems.push({ path: `${base}/x-berth/probe/http`, message: 'an http probe goes through the published port, which only the routed service has; use exec' });
    }
    variables(svc, base);
  }
  if (problems.length === 0) {
    const cycle = serviceOrder(t.services).cycle;
    if (cycle) problems.push({ path: `/services/${cycle[0]}/depends_on`, message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  return problems;
}

function* strings(value: unknown, pointer: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [pointer, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${pointer}/${i}`);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* strings(v, `${pointer}/${escape(k)}`);
  }
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Adds the line and column of the deepest node of `pointer` that exists. */
function locate(problem: TemplateProblem, doc: Document, lines: LineCounter): TemplateProblem {
  const segments = problem.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let n = segments.length; n >= 0; n--) {
    const keys = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { ...problem, line: pos.line, column: pos.col };
    }
  }
  return problem;
}

function dedupe(problems: TemplateProblem[]): TemplateProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
