import t from 'tap';
import path from 'node:path';
import { BerthError } from '../../src/errors.js';
import { loadTemplate, loadTemplates, parseTemplate, type TemplateProblem } from '../../src/stacks/template-loader.js';
import { ROOT_DIR } from '../../src/config/config.js';
import { renderStack } from '../../src/stacks/render.js';
import { planEdge } from '../../src/stacks/plan-edge.js';

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
/** The default template's app given a depends_on (the template itself starts its services together). */
const APP_DEPENDS = '    image: ${IMAGE_APP}\n    depends_on:\n      db: { condition: service_healthy }\n      storage: { condition: service_healthy }\n';
const withAppDepends = (text: string) => text.replace('    image: ${IMAGE_APP}\n', APP_DEPENDS);

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
  const base = withAppDepends(await good());
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
  const text = withAppDepends(await good()).replace('  db:\n    image: ${IMAGE_DB}\n', '  db:\n    image: ${IMAGE_DB}\n    depends_on: [app]\n');
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

// ---- hardening: a template cannot ask for less safety than its plan allows ----

/** The default template with `extra` added to the app service (after its image line). */
const appAsks = async (extra: string) => (await good()).replace('    image: ${IMAGE_APP}\n', `    image: \${IMAGE_APP}\n${extra}`);
/** …and `allow` added to every plan. */
const allowing = (text: string, allow: string) => text.replace(/( {4}(starter|team):\n {6}description: [^\n]*\n)/g, `$1      allow: [${allow}]\n`);

t.test('a service asking for more than its plan allows is refused, naming the service, the setting and the plan', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['cap_add', '    cap_add: [NET_ADMIN]\n', /\/services\/app\/cap_add: service "app" asks for cap_add NET_ADMIN, which plan "starter" does not allow; remove it, or add cap_add to x-berth\.plans\.starter\.allow/],
    ['privileged', '    privileged: true\n', /\/services\/app\/privileged: service "app" asks for privileged true, which plan "starter" does not allow; .* add privileged to/],
    ['root by name', '    user: root\n', /\/services\/app\/user: service "app" asks for user "root" \(root\), which plan "starter" does not allow; .* add root_user to/],
    ['root by id with a group', '    user: "0:1000"\n', /\/services\/app\/user: service "app" asks for user "0:1000" \(root\)/],
    ['root by a padded id', '    user: "000"\n', /\/services\/app\/user: .* \(root\)/],
    ['a writable root filesystem', '    read_only: false\n', /\/services\/app\/read_only: service "app" asks for read_only false \(a writable root filesystem\), .* add writable_rootfs to/],
    ['a weaker seccomp profile', '    security_opt: ["seccomp=unconfined"]\n', /\/services\/app\/security_opt: service "app" asks for security_opt seccomp=unconfined, .* add security_opt to/],
    ['no-new-privileges turned off', '    security_opt: ["no-new-privileges:false"]\n', /\/services\/app\/security_opt: .*no-new-privileges:false/]
  ];
  for (const [name, extra, expected] of cases) {
    const { err, problems } = await problemsOf(await appAsks(extra), 'templates/tenant.yaml');
    t.equal(err.code, 'TEMPLATE_INVALID');
    t.match(err.message, expected, name);
    t.equal(problems.filter((p) => p.message.startsWith('service "app" asks')).length, 2, `${name}: refused for each plan (starter, team)`);
    t.ok(problems.every((p) => p.line), 'with a line number');
  }
});

t.test('what a plan allows loads, and the renderer passes exactly that on', async (t) => {
  const text = allowing(await appAsks('    cap_add: [NET_ADMIN]\n    read_only: false\n    user: "0"\n'), 'cap_add, writable_rootfs, root_user');
  const loaded = parseTemplate(text, 'templates/tenant.yaml');
  const spec = renderStack(loaded, { slug: 'acme', appVersion: '1', images: { app: 'a', db: 'd', storage: 's' }, secrets: { STORAGE_KEY: 'k', OWNER_SETUP_TOKEN: 'o' } });
  const app = spec.services.find((s) => s.name === 'app')!.container;
  t.same(app.relax, { rootUser: true, capAdd: ['NET_ADMIN'], writableRootfs: true });
  t.equal(app.user, '0');
  t.same(spec.services.find((s) => s.name === 'db')!.container.relax, { rootUser: true }, 'a plan allowing root lets an image run as its own root user');
  // One plan allowing it is not enough: every plan the template has must.
  const oneOnly = (await appAsks('    cap_add: [NET_ADMIN]\n')).replace(/( {4}starter:\n {6}description: [^\n]*\n)/, '$1      allow: [cap_add]\n');
  const { problems } = await problemsOf(oneOnly);
  t.same(problems.map((p) => p.message.match(/plan "(\w+)"/)?.[1]), ['team'], 'refused for the plan that does not allow it');
});

t.test('asking for what is already the default is not asking for more', async (t) => {
  const text = await appAsks('    cap_drop: [ALL]\n    security_opt: ["no-new-privileges:true"]\n    read_only: true\n    user: "65534:65534"\n');
  const spec = renderStack(parseTemplate(text, 't.yaml'), { slug: 'acme', appVersion: '1', images: { app: 'a', db: 'd', storage: 's' }, secrets: { STORAGE_KEY: 'k', OWNER_SETUP_TOKEN: 'o' } });
  t.same(spec.services.find((s) => s.name === 'app')!.container.relax, {});
});

t.test('service and volume names are one name segment: no dot, at most 31 characters; users are numeric', async (t) => {
  const base = await good();
  const cases: [string, string, RegExp][] = [
    ['a dotted service', base.replace('\n  storage:\n    image:', '\n  storage.x:\n    image:'), /\/services\/storage\.x: the name "storage\.x" must match pattern "\^\[a-z\]\[a-z0-9-\]\{0,30\}\$"/],
    ['a dotted volume', base.replace('  storage-data: {}', '  storage.data: {}'), /\/volumes\/storage\.data: the name "storage\.data" must match pattern/],
    ['a long volume', base.replace('  storage-data: {}', `  ${'v'.repeat(32)}: {}`), /\/volumes\/v{32}: the name "v{32}" must match pattern/],
    ['a user name', await appAsks('    user: nobody\n'), /\/services\/app\/user: must match pattern/],
    ['an unknown allowance', allowing(base, 'everything'), /\/x-berth\/plans\/starter\/allow\/0: must be one of "cap_add", "privileged", "security_opt", "root_user", "writable_rootfs"/]
  ];
  for (const [name, text, expected] of cases) t.match((await problemsOf(text)).err.message, expected, name);
});

// ---- limits at the edge: x-berth.plans.<plan>.edge ----

t.test('each plan\'s edge limits load, defaults fill what a plan leaves out', async (t) => {
  const loaded = parseTemplate(await good(), 'templates/tenant.yaml');
  t.same(planEdge(loaded, 'starter'), { maxBodySize: '100m', limits: { ratePerMinute: 3000, burst: 100, connections: 50 } });
  t.same(planEdge(loaded, 'team'), { maxBodySize: '500m', limits: { ratePerMinute: 60_000, burst: 2000, connections: 200 } });
  const bare = parseTemplate((await good()).replace(/ {6}edge: \{[^\n]*\n/g, ''), 't.yaml');
  t.same(planEdge(bare, 'starter'), { maxBodySize: '100m', limits: { ratePerMinute: 3000, burst: 100, connections: 50 } }, 'no edge block: the defaults');
  const some = parseTemplate((await good()).replace('edge: { rate: 50r/s, burst: 100, connections: 50, max_body_size: 100m }', 'edge: { rate: 300r/m }'), 't.yaml');
  t.same(planEdge(some, 'starter'), { maxBodySize: '100m', limits: { ratePerMinute: 300, burst: 100, connections: 50 } }, 'per minute; the rest defaulted');
  t.throws(() => planEdge(loaded, 'gold'), { code: 'PLAN_UNKNOWN' });
});

t.test('a bad edge limit is refused naming the plan and the field', async (t) => {
  const base = await good();
  const starter = 'edge: { rate: 50r/s, burst: 100, connections: 50, max_body_size: 100m }';
  const huge = 'x'.repeat(1 << 20);
  const cases: [string, string, RegExp][] = [
    ['a rate that is not one', 'edge: { rate: abc }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be requests per second or minute, such as 20r\/s/],
    ['a rate of nothing', 'edge: { rate: 0r/s }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be/],
    ['a negative rate', 'edge: { rate: -5r/s }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be/],
    ['a rate with a separator', 'edge: { rate: "20r/s 1 1" }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be/],
    ['a rate with a newline', 'edge: { rate: "20r/s\\nx" }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be/],
    ['a rate over the bound', 'edge: { rate: 200000r/s }', /\/x-berth\/plans\/starter\/edge\/rate: plan "starter": rate must be .* at most 100000r\/s/],
    ['a 1 MB rate', `edge: { rate: ${huge} }`, /\/x-berth\/plans\/starter\/edge\/rate: must NOT have more than 12 characters/],
    ['a negative burst', 'edge: { burst: -1 }', /\/x-berth\/plans\/starter\/edge\/burst: must be >= 0/],
    ['a burst as text', 'edge: { burst: many }', /\/x-berth\/plans\/starter\/edge\/burst: must be integer/],
    ['no connections', 'edge: { connections: 0 }', /\/x-berth\/plans\/starter\/edge\/connections: must be >= 1/],
    ['fractional connections', 'edge: { connections: 2.5 }', /\/x-berth\/plans\/starter\/edge\/connections: must be integer/],
    ['a body size that is not one', 'edge: { max_body_size: 10mb }', /\/x-berth\/plans\/starter\/edge\/max_body_size: plan "starter": max_body_size must be a size from 1k to 1g/],
    ['a body size over 1g', 'edge: { max_body_size: 2g }', /\/x-berth\/plans\/starter\/edge\/max_body_size: plan "starter": max_body_size must be/],
    ['a 1 MB body size', `edge: { max_body_size: ${huge} }`, /\/x-berth\/plans\/starter\/edge\/max_body_size: must NOT have more than 12 characters/],
    ['an unknown field', 'edge: { rate: 20r/s, per_ip: true }', /\/x-berth\/plans\/starter\/edge\/per_ip: "per_ip" is not allowed here/]
  ];
  for (const [name, edge, expected] of cases) {
    const text = base.replace(starter, edge);
    t.not(text, base, `${name}: the case changes the template`);
    const { err } = await problemsOf(text, 'templates/tenant.yaml');
    t.equal(err.code, 'TEMPLATE_INVALID', name);
    t.match(err.message, expected, name);
    t.ok(err.message.length < 2000, `${name}: the message does not echo a huge value`);
  }
});
