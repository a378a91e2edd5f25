import t from 'tap';
import path from 'node:path';
import { BerthError } from '../../src/errors.js';
import { loadTemplate, loadTemplates, parseTemplate, type TemplateProblem } from '../../src/stacks/template-loader.js';
import { ROOT_DIR } from '../../src/config/config.js';

const templatesDir = path.join(ROOT_DIR, 'templates');

async function problemsOf(text: string, file = 'bad.yaml'): Promise<{ err: BerthError; problems: TemplateProblem[] }> {
  try {
    parseTemplate(text, file);
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    return { err, problems: (err.details?.problems ?? []) as TemplateProblem[] };
  }
  throw new Error('template was accepted');
}

const good = async () => (await import('node:fs/promises')).readFile(path.join(templatesDir, 'tenant.yaml'), 'utf8');

t.test('the default template loads with three services, a route and plans', async (t) => {
  const loaded = await loadTemplate(path.join(templatesDir, 'tenant.yaml'));
  t.equal(loaded.name, 'tenant');
  t.same(Object.keys(loaded.template.services), ['db', 'storage', 'app']);
  t.same(loaded.template['x-berth'].route, { service: 'app', port: 3000 });
  t.ok(loaded.template['x-berth'].plans.starter);
  const all = await loadTemplates(templatesDir);
  t.ok(all.has('tenant'));
});

t.test('a YAML syntax error names the file and line', async (t) => {
  const { err, problems } = await problemsOf('services:\n  app: [unclosed\n', 'templates/broken.yaml');
  t.equal(err.code, 'TEMPLATE_INVALID');
  t.match(err.message, /templates\/broken\.yaml:\d+:\d+/);
  t.match(problems[0]!.message, /YAML syntax/);
});

t.test('an unknown property is refused at its path and line, with a hint', async (t) => {
  const text = (await good()).replace('    image: ${IMAGE_APP}\n', '    image: ${IMAGE_APP}\n    ports: ["8080:3000"]\n');
  const { err, problems } = await problemsOf(text, 'templates/tenant.yaml');
  const p = problems.find((p) => p.path === '/services/app/ports');
  t.ok(p, 'the problem points at /services/app/ports');
  t.match(p!.message, /"ports" is not allowed here \(Berth publishes only the routed port/);
  const line = text.split('\n').findIndex((l) => l.includes('ports: ["8080')) + 1;
  t.equal(p!.line, line, 'line number of the offending key');
  t.match(err.message, new RegExp(`templates/tenant\\.yaml:${line}:\\d+ /services/app/ports`));
});

t.test('a wrong type, a missing field and a bad limit are all reported together', async (t) => {
  const text = (await good())
    .replace('    port: 3000', '    port: "three thousand"')
    .replace('app: { memory: 256m, cpus: 0.5, pids: 256 }', 'app: { memory: lots, cpus: 0.5 }');
  const { problems } = await problemsOf(text);
  const paths = problems.map((p) => `${p.path}: ${p.message}`);
  t.ok(paths.some((p) => p.startsWith('/x-berth/route/port: must be integer')), paths.join('\n'));
  t.ok(paths.some((p) => p.startsWith('/x-berth/plans/starter/limits/app/memory: must match pattern')), paths.join('\n'));
  t.ok(paths.some((p) => p === '/x-berth/plans/starter/limits/app: missing required "pids"'), paths.join('\n'));
});

t.test('meaning checks: route, plans, volumes, variables, dependencies', async (t) => {
  const base = await good();
  const cases: [string, string, RegExp][] = [
    ['route to a missing service', base.replace('    service: app', '    service: web'), /\/x-berth\/route\/service: routes to "web", which is not a service/],
    ['default plan missing', base.replace('default_plan: starter', 'default_plan: gold'), /\/x-berth\/default_plan: "gold" is not one of the plans/],
    ['plan without limits for a service', base.replace('        storage: { memory: 1g, cpus: 1, pids: 1024 }\n', ''), /\/x-berth\/plans\/team\/limits: plan "team" gives no limits for service "storage"/],
    ['undeclared volume', base.replace('      - db-data:/data', '      - dbdata:/data'), /\/services\/db\/volumes\/0: volume "dbdata" is not declared/],
    ['unknown variable', base.replace('MINIO_BUCKET: ${TENANT}', 'MINIO_BUCKET: ${TENANT_NAME}'), /\/services\/app\/environment\/MINIO_BUCKET: unknown variable \$\{TENANT_NAME\}/],
    ['undeclared secret', base.replace('secrets: [STORAGE_KEY, OWNER_SETUP_TOKEN]', 'secrets: [OTHER]'), /unknown variable \$\{SECRET_STORAGE_KEY\}/],
    ['missing dependency', base.replace('      db: { condition: service_healthy }', '      database: { condition: service_healthy }'), /\/services\/app\/depends_on: depends on "database", which is not a service/],
    ['http probe on an unrouted service', base.replace('        exec: [berth-probe, mongo, "127.0.0.1:27017"]', '        http: { path: /ready }'), /\/services\/db\/x-berth\/probe\/http: an http probe goes through the published port/],
    ['bad condition', base.replace('db: { condition: service_healthy }', 'db: { condition: whenever }'), /\/services\/app\/depends_on/]
  ];
  for (const [name, text, expected] of cases) {
    const { err } = await problemsOf(text, 'templates/tenant.yaml');
    t.match(err.message, expected, name);
  }
});

t.test('a dependency cycle is refused', async (t) => {
  const text = (await good()).replace('  db:\n    image: ${IMAGE_DB}\n', '  db:\n    image: ${IMAGE_DB}\n    depends_on: [app]\n');
  const { err } = await problemsOf(text);
  t.match(err.message, /dependency cycle: (db → app → db|app → db → app)/);
});

t.test('a missing file is TEMPLATE_NOT_FOUND; a bad file name is refused', async (t) => {
  await t.rejects(loadTemplate('/nonexistent/x.yaml'), { code: 'TEMPLATE_NOT_FOUND' });
  const dir = t.testdir({ 'Bad Name.yaml': await good() });
  await t.rejects(loadTemplates(dir), { code: 'TEMPLATE_INVALID', message: /must be lower-case/ });
});

t.test('storage quotas: every plan states one when x-berth.storage says where the files are, and only then', async (t) => {
  const base = await good();
  const cases: [string, string, RegExp][] = [
    ['a plan without a quota', base.replace('      storage_quota: 10g\n', ''), /\/x-berth\/plans\/team: plan "team" states no storage_quota, which x-berth\.storage needs/],
    ['a quota without x-berth.storage', base.replace(/ {2}storage:\n {4}service: storage\n {4}usage: .*\n {4}limit: .*\n/, ''), /\/x-berth\/plans\/starter\/storage_quota: a storage quota needs x-berth\.storage/],
    ['a quota of nothing', base.replace('storage_quota: 1g', 'storage_quota: 0g'), /\/x-berth\/plans\/starter\/storage_quota: must be more than 0/],
    ['a quota that is not a size', base.replace('storage_quota: 1g', 'storage_quota: plenty'), /\/x-berth\/plans\/starter\/storage_quota: must match pattern/],
    ['files in a service that does not exist', base.replace('    service: storage\n    usage', '    service: files\n    usage'), /\/x-berth\/storage\/service: "files" is not a service/],
    ['files in the routed service', base.replace('    service: storage\n    usage', '    service: app\n    usage'), /\/x-berth\/storage\/service: the routed service moves between two containers/],
    ['an unknown variable in a storage command', base.replace('"${STORAGE_LIMIT_BYTES}"]', '"${QUOTA}"]'), /\/x-berth\/storage\/limit\/4: unknown variable \$\{QUOTA\}/],
    ['no usage command', base.replace(/ {4}usage: .*\n/, ''), /\/x-berth\/storage: missing required "usage"/]
  ];
  for (const [name, text, expected] of cases) {
    t.not(text, base, `${name}: the case changes the template`);
    const { err } = await problemsOf(text, 'templates/tenant.yaml');
    t.match(err.message, expected, name);
  }
});
