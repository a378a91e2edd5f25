// Hostile input against the API's validators, on a real platform database:
// every pattern in a route schema sits behind a length cap that ajv checks
// first; a 1 MB adversarial value in every public field and in the tenant
// fields is answered 400 VALIDATION_FAILED naming the field (the app is built
// with a body limit above 1 MB so the validators themselves see the value);
// the production body limit answers 413 before any validator runs. Times are
// logged, not asserted.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../src/log.js';
import { createPlatform, type Platform } from '../../src/platform/platform.js';
import { startTestPlatform } from '../helpers/platform.js';

const MB = 1 << 20;
/** Values that make backtracking patterns (and naive ones) take super-linear time. */
const ADVERSARIAL: Record<string, string> = {
  'a@ + a×1M': `a@${'a'.repeat(MB)}`,
  '-×1M': '-'.repeat(MB),
  'a.×512K + @': `a@${'a.'.repeat(MB / 2)}@`,
  '@×1M': '@'.repeat(MB),
  'a-×512K + !': `a@${'a-'.repeat(MB / 2)}!`
};

const tp = await startTestPlatform('hostile');
let wide: Platform;
t.before(async () => {
  // The same platform, but the body limit raised so 1 MB values reach the
  // schema validators, and request rates raised so the limits do not answer first.
  const rate = { ...tp.config.onboarding.rate, mailPerIp: 10_000, mailPerEmail: 10_000, requestsPerIp: 10_000 };
  const config = { ...tp.config, onboarding: { ...tp.config.onboarding, rate } };
  wide = await createPlatform(config, silentLogger, { fastify: { bodyLimit: 8 * MB }, healthTimeoutMs: 60_000 });
  await wide.app.ready();
});
t.teardown(async () => {
  await wide?.close();
  await tp.close();
});
const admin = { authorization: `Bearer ${tp.token}` };

interface Answer {
  statusCode: number;
  body: string;
  json(): any;
}

interface Probe {
  name: string;
  /** How the message starts; a path segment is refused by the router (414 URI_TOO_LONG) before any schema. */
  field: string;
  status?: number;
  code?: string;
  send(app: FastifyInstance, value: string): Promise<Answer>;
}

const post = (url: string, body: (v: string) => object, headers: Record<string, string> = {}) =>
  (app: FastifyInstance, v: string) => app.inject({ method: 'POST', url: `/api/v1${url}`, payload: body(v), headers });
const code = '123456';
const PROBES: Probe[] = [
  { name: 'sign-up email', field: 'body.email', send: post('/onboarding/signups', (v) => ({ email: v, captcha: 'x' })) },
  { name: 'sign-up captcha', field: 'body.captcha', send: post('/onboarding/signups', (v) => ({ email: 'a@example.com', captcha: v })) },
  { name: 'sign-up code', field: 'body.code', send: post('/onboarding/signup/verify', (v) => ({ code: v })) },
  { name: 'team name', field: 'body.displayName', send: post('/onboarding/signup/team', (v) => ({ displayName: v, slug: 'acme', plan: 'starter' })) },
  { name: 'team slug', field: 'body.slug', send: post('/onboarding/signup/team', (v) => ({ displayName: 'Acme', slug: v, plan: 'starter' })) },
  { name: 'team plan', field: 'body.plan', send: post('/onboarding/signup/team', (v) => ({ displayName: 'Acme', slug: 'acme', plan: v })) },
  { name: 'slug check name', field: 'querystring.name', send: (app, v) => app.inject({ method: 'GET', url: '/api/v1/onboarding/signup/slug', query: { name: v } }) },
  { name: 'slug check slug', field: 'querystring.slug', send: (app, v) => app.inject({ method: 'GET', url: '/api/v1/onboarding/signup/slug', query: { slug: v } }) },
  { name: 'sign-in email', field: 'body.email', send: post('/auth/login', (v) => ({ email: v, password: 'x'.repeat(12), code })) },
  { name: 'sign-in password', field: 'body.password', send: post('/auth/login', (v) => ({ email: 'a@example.com', password: v, code })) },
  { name: 'sign-in code', field: 'body.code', send: post('/auth/login', (v) => ({ email: 'a@example.com', password: 'x'.repeat(12), code: v })) },
  { name: 'setup link', field: 'body.token', send: post('/auth/setup/start', (v) => ({ token: v })) },
  { name: 'setup password', field: 'body.password', send: post('/auth/setup/finish', (v) => ({ token: 'A'.repeat(43), password: v, code })) },
  { name: 'tenant slug', field: 'body.slug', send: post('/tenants', (v) => ({ slug: v }), admin) },
  { name: 'tenant owner email', field: 'body.ownerEmail', send: post('/tenants', (v) => ({ slug: 'acme', ownerEmail: v }), admin) },
  { name: 'tenant display name', field: 'body.displayName', send: post('/tenants', (v) => ({ slug: 'acme', displayName: v }), admin) },
  { name: 'tenant slug in the path', field: 'a segment of the URL path', status: 414, code: 'URI_TOO_LONG', send: (app, v) => app.inject({ method: 'POST', url: `/api/v1/tenants/${v}/owner-link`, headers: admin }) },
  { name: 'token name', field: 'body.name', send: post('/tokens', (v) => ({ name: v, scope: 'read' }), admin) }
];

t.test('every pattern or format in a request schema has a length cap, and ajv checks the cap first', async (t) => {
  const doc = (await wide.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
  interface Operation { parameters?: { name: string; schema: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> } }
  interface Schema { type?: string; pattern?: string; format?: string; maxLength?: number; enum?: unknown[]; properties?: Record<string, Schema>; items?: Schema }
  const uncapped: string[] = [];
  let checked = 0;
  const walk = (where: string, s: Schema | undefined) => {
    if (!s) return;
    if ((s.pattern || s.format) && s.maxLength === undefined && !s.enum) uncapped.push(where);
    if (s.pattern || s.format) checked++;
    for (const [name, sub] of Object.entries(s.properties ?? {})) walk(`${where}.${name}`, sub);
    walk(`${where}[]`, s.items);
  };
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      for (const p of op.parameters ?? []) walk(`${method.toUpperCase()} ${path} ${p.name}`, p.schema);
      for (const c of Object.values(op.requestBody?.content ?? {})) walk(`${method.toUpperCase()} ${path} body`, c.schema);
    }
  }
  t.ok(checked > 10, `${checked} patterns and formats in request schemas`);
  t.same(uncapped, [], 'each one has a maxLength');

  // A value both too long and wrong for a pattern that would backtrack: the
  // answer names the length, so the pattern never ran on it.
  const res = await wide.app.inject({ method: 'POST', url: '/api/v1/onboarding/signups', payload: { email: `a@${'a'.repeat(300)}`, captcha: 'x' } });
  t.match(res.json().error.message, /^body\.email must NOT have more than 254 characters; shorten it$/);
});

t.test('a 1 MB adversarial value in each field: a quick 400 naming the field (414 for a path segment)', async (t) => {
  const times: number[] = [];
  for (const probe of PROBES) {
    for (const [kind, value] of Object.entries(ADVERSARIAL)) {
      const started = performance.now();
      const res = await probe.send(wide.app, value);
      const ms = performance.now() - started;
      times.push(ms);
      t.equal(res.statusCode, probe.status ?? 400, `${probe.name} (${kind}): ${probe.status ?? 400}`);
      const error = res.json().error as { code: string; message: string };
      t.equal(error.code, probe.code ?? 'VALIDATION_FAILED', `${probe.name} (${kind})`);
      t.ok(error.message.startsWith(`${probe.field} `), `${probe.name} (${kind}): "${error.message}" names ${probe.field}`);
      t.match(error.message, /; (shorten it|see the OpenAPI document|check the URL)/, 'and says what to do');
      t.ok(res.body.length < 1024, 'the answer does not echo the value');
    }
  }
  t.comment(`${times.length} requests with a 1 MB value: slowest ${Math.round(Math.max(...times))} ms, median ${Math.round(times.sort((a, b) => a - b)[times.length >> 1]!)} ms`);
});

t.test('with the production body limit, a 1 MB body is refused before any validator: 413 saying what to do', async (t) => {
  for (const probe of PROBES.filter((p) => p.field.startsWith('body.'))) {
    const started = performance.now();
    const res = await probe.send(tp.platform.app, ADVERSARIAL['a@ + a×1M']!);
    t.equal(res.statusCode, 413, probe.name);
    t.match(res.json().error, { code: 'BODY_TOO_LARGE', message: /larger than the 64 KiB this API accepts; .*shorten/ });
    t.comment(`${probe.name}: ${Math.round(performance.now() - started)} ms`);
  }
});

t.test('an unknown field is named, and the answer says to remove it', async (t) => {
  const res = await wide.app.inject({ method: 'POST', url: '/api/v1/onboarding/signups', payload: { email: 'a@example.com', captcha: 'x', ['x'.repeat(MB)]: 1 } });
  t.equal(res.statusCode, 400);
  t.match(res.json().error.message, /^body\.x+ is not a field this accepts; remove it$/);
});
