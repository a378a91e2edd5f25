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

// The team page's sleep form and its Freeze/Sleep/Wake buttons call these; every
// refusal names the field and its rule, and a refusal writes nothing.
t.test('sleep times and sleep actions: bad input refused, unknown teams 404', async (t) => {
  const put = (payload: unknown, slug = 'no-such-team') =>
    app.inject({ method: 'PUT', url: `/api/v1/tenants/${slug}/sleep`, headers: auth, payload: payload as object });
  const bad: [string, unknown, RegExp][] = [
    ['a unit that is none', { pause: '5x' }, /^body\.pause must match pattern .*30s, 15m, 12h, 7d or never/],
    ['no unit', { stop: '15' }, /^body\.stop must match pattern/],
    ['zero', { pause: '0m' }, /^body\.pause must match pattern/],
    ['a space', { pause: '15 m' }, /^body\.pause must match pattern/],
    ['seven digits', { pause: '1000000h' }, /^body\.pause must match pattern/],
    ['Never capitalised', { stop: 'Never' }, /^body\.stop must match pattern/],
    ['a newline after a good value', { pause: '15m\n' }, /^body\.pause must match pattern/],
    ['a number', { pause: 15 }, /^body\.pause must be string/],
    ['an empty string', { pause: '' }, /^body\.pause must match pattern/],
    ['13 characters', { pause: 'x'.repeat(13) }, /^body\.pause must NOT have more than 12 characters/],
    ['a field it has not', { pause: '15m', wake: 'now' }, /^body\.wake is not a field this accepts/]
  ];
  for (const [what, body, message] of bad) {
    const res = await put(body);
    t.equal(res.statusCode, 400, what);
    t.equal(res.json().error?.code, 'VALIDATION_FAILED', what);
    t.match(res.json().error?.message, message, what);
  }
  const huge = await put({ pause: 'x'.repeat(1 << 20) });
  t.equal(huge.statusCode, 413, 'a 1 MB value: refused before it is parsed');
  t.equal(huge.json().error?.code, 'BODY_TOO_LARGE');
  const nearLimit = await put({ pause: 'x'.repeat(60_000) });
  t.equal(nearLimit.statusCode, 400, 'a 60 KB value under the body limit: refused by its length');
  t.match(nearLimit.json().error?.message, /^body\.pause must NOT have more than 12 characters \(.*\); shorten it$/);
  t.notMatch(nearLimit.json().error?.message, /xxx/, 'and the message does not echo the value');
  const missing = await put({ pause: '15m' });
  t.equal(missing.statusCode, 404, 'good times for a team that does not exist');
  t.equal(missing.json().error?.code, 'TENANT_NOT_FOUND');
  t.equal((await put({ pause: '15m' }, 'Bad_Slug')).statusCode, 400, 'a slug that is none');

  const act = (action: string, query = '') => app.inject({ method: 'POST', url: `/api/v1/tenants/no-such-team/actions/${action}${query}`, headers: auth });
  for (const action of ['sleep', 'wake']) t.equal((await act(action)).json().error?.code, 'TENANT_NOT_FOUND', `${action}: a team that does not exist`);
  t.equal((await act('sleep', '?stop=true')).statusCode, 404, 'sleep?stop=true: the same');
  const maybe = await act('sleep', '?stop=maybe');
  t.equal(maybe.statusCode, 400, 'stop must be a boolean');
  t.match(maybe.json().error?.message, /^querystring\.stop must be boolean/);
  t.equal((await act('sleep', '?later=1')).statusCode, 400, 'a query parameter it has not');
  t.match((await act('freeze')).json().error?.message, /^params\.action must be one of: start, stop, restart, sleep, wake/, 'freeze is sleep (without stop)');
  t.same(await repo.list(), [], 'nothing was written');
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
