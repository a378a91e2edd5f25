// Bad input is refused with the right status and code, and leaves nothing behind.
import t from 'tap';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';

const tp = await startTestPlatform('valid');
t.teardown(() => tp.close());
const { app, repo } = tp.platform;
const auth = { authorization: `Bearer ${tp.token}` };

const post = async (payload: unknown, headers: Record<string, string> = {}) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { ...auth, ...headers }, payload: payload as object });
  return { status: res.statusCode, error: (res.json() as { error?: { code: string; message: string } }).error };
};

// The slug rules are in the create body's schema (and so in the API document):
// every refusal is VALIDATION_FAILED naming body.slug and stating the rule.
t.test('bad slugs', async (t) => {
  const cases: [unknown, RegExp][] = [
    ['ab', /3-32 characters/],
    ['Upper', /a-z, 0-9 and -/],
    ['9lives', /starting with a letter/],
    ['has_underscore', /a-z, 0-9 and -/],
    ['a'.repeat(33), /3-32/],
    ['a'.repeat(1024 * 60), /must NOT have more than 32 characters/],
    ['trailing-', /must not end with -/],
    ['dou--ble', /contain --/],
    ['www', /reserved/],
    ['api', /reserved/],
    ['console', /reserved/],
    ['admin', /reserved/],
    ['berth-x', /reserved/]
  ];
  for (const [slug, message] of cases) {
    const res = await post({ slug });
    t.equal(res.status, 400, String(slug).slice(0, 40));
    t.equal(res.error?.code, 'VALIDATION_FAILED', String(slug).slice(0, 40));
    t.match(res.error?.message, /^body\.slug /, String(slug).slice(0, 40));
    t.match(res.error?.message, message, String(slug).slice(0, 40));
  }
});

t.test('bad bodies', async (t) => {
  const missing = await post({ displayName: 'x' });
  t.equal(missing.status, 400);
  t.equal(missing.error?.code, 'VALIDATION_FAILED');
  t.match(missing.error?.message, /slug/);
  const extra = await post({ slug: testSlug('v'), color: 'red' });
  t.equal(extra.status, 400);
  t.equal(extra.error?.code, 'VALIDATION_FAILED');
  const wrongType = await post({ slug: 42 });
  t.equal(wrongType.status, 400);
  // Plans and templates are those loaded, listed in the schema.
  const plan = await post({ slug: testSlug('v'), plan: 'gold' });
  t.equal(plan.status, 400);
  t.equal(plan.error?.code, 'VALIDATION_FAILED');
  t.match(plan.error?.message, /body\.plan must be one of: starter, team/);
  const template = await post({ slug: testSlug('v'), template: 'nope' });
  t.equal(template.status, 400);
  t.equal(template.error?.code, 'VALIDATION_FAILED');
  t.match(template.error?.message, /body\.template must be one of: tenant/);
  const notJson = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { ...auth, 'content-type': 'application/json' }, payload: '{bad' });
  t.equal(notJson.statusCode, 400);
  t.equal(notJson.json().error.code, 'VALIDATION_FAILED');
  const badAction = await app.inject({ method: 'POST', url: '/api/v1/tenants/abc/actions/explode', headers: auth });
  t.equal(badAction.statusCode, 400);
  const badPhase = await app.inject({ method: 'GET', url: '/api/v1/tenants?phase=sleepy', headers: auth });
  t.equal(badPhase.statusCode, 400);
});

t.test('nothing half-written: no registry entry, no container, no network', async (t) => {
  t.same(await repo.list(), []);
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.platform=${tp.config.platformId}`), '');
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.platform=${tp.config.platformId}`), '');
});

t.test('a duplicate slug is 409', async (t) => {
  const slug = testSlug('dup');
  const first = await post({ slug });
  t.equal(first.status, 202);
  const second = await post({ slug });
  t.equal(second.status, 409);
  t.equal(second.error?.code, 'TENANT_EXISTS');
  await tp.platform.tenants.settled();
});

t.test('OpenAPI is generated from the route schemas; healthz and metrics answer', async (t) => {
  const spec = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  t.equal(spec.openapi?.slice(0, 2), '3.');
  t.ok(spec.paths['/api/v1/tenants']?.post?.requestBody, 'create has a request body schema');
  t.ok(spec.paths['/api/v1/tenants/{slug}/actions/{action}'], 'actions documented');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /# TYPE berth_tenants gauge/);
  t.match(metrics, /berth_tenants\{phase="running"\} 1/);
  t.match(metrics, /berth_operation_duration_seconds_count\{kind="create",result="ok"\} 1/);
  t.match(metrics, /berth_route_changes_total \d+/);
});
