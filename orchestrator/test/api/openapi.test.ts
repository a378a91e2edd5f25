// The API document tells the truth: what it says of security, statuses and
// input rules is what the server does, on the whole platform's app.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ErrorCodes } from '../../src/errors.js';
import { startTestPlatform } from '../helpers/platform.js';

const tp = await startTestPlatform('oapi');
t.teardown(() => tp.close());
const { app } = tp.platform;
const admin = { authorization: `Bearer ${tp.token}` };

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
}
const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
  security: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};
const op = (path: string, method: string): Operation => doc.paths[`/api/v1${path}`]![method]!;
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, o]) => ({ path, method, o })));
const call = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers, payload: payload as string });

t.test('public routes need no bearer token; sign-up routes name their own token', async (t) => {
  t.same(doc.security, [{ bearer: [] }], 'a bearer token is the rule');
  for (const [path, method] of [['/onboarding/captcha', 'get'], ['/onboarding/signups', 'post'], ['/auth/login', 'post'], ['/auth/setup/start', 'post'], ['/auth/setup/finish', 'post']]) {
    t.same(op(path!, method!).security, [], `${method} ${path}: security []`);
  }
  for (const [path, method] of [['/onboarding/signup', 'get'], ['/onboarding/signup/verify', 'post'], ['/onboarding/signup/team', 'post']]) {
    t.same(op(path!, method!).security, [{ signup: [] }], `${method} ${path}: the sign-up's token`);
  }
  t.match(doc.components.securitySchemes.signup, { type: 'apiKey', in: 'header', name: 'X-Berth-Signup' });
  t.notOk(op('/tenants', 'get').security, 'GET /tenants keeps the bearer rule');
  t.equal((await call('GET', '/onboarding/captcha')).statusCode, 200, 'and indeed answers without a token');
  const scope = (path: string, method: string) => (op(path, method) as { 'x-berth-scope'?: string })['x-berth-scope'];
  t.same(
    [scope('/onboarding/captcha', 'get'), scope('/tenants', 'get'), scope('/tenants', 'post'), scope('/tokens', 'post'), scope('/upgrades/preview', 'post')],
    ['public', 'read', 'write', 'admin', 'read'],
    'each operation names the scope it needs'
  );
  t.same(operations.filter(({ o }) => !['public', 'read', 'write', 'admin'].includes((o as { 'x-berth-scope'?: string })['x-berth-scope'] ?? '')).map(({ path }) => path), [], 'every one');
});

t.test('every error response is Berth\'s error shape, described by codes of that very status', async (t) => {
  let checked = 0;
  for (const { path, method, o } of operations) {
    for (const [status, response] of Object.entries(o.responses)) {
      if (Number(status) < 400) continue;
      t.same(response.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status}: Error`);
      for (const line of response.description.split('\n')) {
        const code = line.split(':')[0] as keyof typeof ErrorCodes;
        t.equal(ErrorCodes[code]?.status, Number(status), `${method} ${path} ${status}: ${code}`);
      }
      checked++;
    }
  }
  t.ok(checked > 100, `${checked} error responses checked`);
});

t.test('the statuses routes really answer are listed', async (t) => {
  const listed = (path: string, method: string, wanted: string[]) =>
    t.same(wanted.filter((s) => !(s in op(path, method).responses)), [], `${method} ${path} lists ${wanted.join(', ')}`);
  listed('/tenants/{slug}/logs', 'get', ['200', '400', '401', '404', '409', '414', '500']);
  t.same(Object.keys(op('/tenants/{slug}/logs', 'get').responses['200']!.content!).sort(), ['application/json', 'text/plain']);
  listed('/events/stream', 'get', ['200', '400', '401', '500']);
  t.same(Object.keys(op('/events/stream', 'get').responses['200']!.content!), ['text/event-stream']);
  for (const { path, method, o } of operations) {
    const has = (s: string) => s in o.responses;
    if (path.includes('{')) t.ok(has('414'), `${method} ${path}: 414`);
    if (method === 'post' || method === 'delete') t.ok(has('413') && has('415'), `${method} ${path}: 413 and 415`);
    if (!(Array.isArray(o.security) && o.security.length === 0)) t.ok(has('401'), `${method} ${path}: 401`);
  }
  // And they are answered as documented.
  const logs = await call('GET', '/tenants/tnobody-here/logs', admin);
  t.equal(logs.statusCode, 404);
  t.equal(logs.json().error.code, 'TENANT_NOT_FOUND');
  t.equal((await call('GET', '/tenants/tnobody-here/logs')).statusCode, 401);
  t.equal((await call('GET', '/tenants/Not_A_Slug/logs', admin)).statusCode, 400);
});

t.test('a method a path does not have is 405 with Allow; OPTIONS lists them', async (t) => {
  for (const [method, url, allow] of [['TRACE', '/tenants', 'GET, HEAD, OPTIONS, POST'], ['PUT', '/tenants/abc', 'DELETE, GET, HEAD, OPTIONS'], ['DELETE', '/tokens', 'GET, HEAD, OPTIONS, POST']]) {
    const res = await call(method!, url!, {}, method === 'PUT' ? { any: 'body' } : undefined);
    t.equal(res.statusCode, 405, `${method} ${url}`);
    t.equal(res.headers.allow, allow);
    t.equal(res.json().error.code, 'METHOD_NOT_ALLOWED');
  }
  const options = await call('OPTIONS', '/tenants/abc/actions/start');
  t.equal(options.statusCode, 204);
  t.equal(options.headers.allow, 'OPTIONS, POST');
  const unknown = await call('POST', '/no-such-thing', { 'content-type': 'text/xml' }, '<x/>');
  t.equal(unknown.statusCode, 404, 'an unknown path is 404 before its body is looked at');
  t.equal(unknown.json().error.code, 'NOT_FOUND');
});

t.test('too long and too large are refused in Berth\'s shape, 414 before auth', async (t) => {
  const long = await call('GET', `/tenants/${'a'.repeat(150)}`);
  t.equal(long.statusCode, 414);
  t.same(Object.keys(long.json()), ['error']);
  t.equal(long.json().error.code, 'URI_TOO_LONG');
  const big = await call('POST', '/tenants', { ...admin, 'content-type': 'application/json' }, JSON.stringify({ slug: 'abc', displayName: 'x'.repeat(70 * 1024) }));
  t.equal(big.statusCode, 413);
  t.equal(big.json().error.code, 'BODY_TOO_LARGE');
  t.match(big.json().error.message, /64 KiB/);
  const xml = await call('POST', '/tenants', { ...admin, 'content-type': 'text/xml' }, '<slug/>');
  t.equal(xml.statusCode, 415);
  t.equal(xml.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
  t.equal((await call('GET', '/tenants/%E0%A4%A')).json().error?.code, 'VALIDATION_FAILED', 'a malformed percent-encoding');
});

t.test('rules are in the schemas, and the server keeps them', async (t) => {
  const create = op('/tenants', 'post').requestBody!.content['application/json']!.schema as { properties: Record<string, Record<string, unknown>> };
  t.match(create.properties.slug, { minLength: 3, maxLength: 32, pattern: '^[a-z](-?[a-z0-9])+$', not: { anyOf: [{ enum: Array }, { pattern: '^berth-' }] } });
  t.same(create.properties.plan!.enum, ['starter', 'team'], 'plans of the loaded templates');
  const slugParam = op('/tenants/{slug}', 'get').parameters!.find((p) => p.name === 'slug')!;
  t.match(slugParam.schema, { maxLength: 32, pattern: '^[a-z](-?[a-z0-9])+$' });
  for (const [slug, rule] of [['a--b', /must not end with - or contain --/], ['www', /reserved/], ['berth-x', /reserved/]]) {
    const res = await call('POST', '/tenants', admin, { slug });
    t.equal(res.statusCode, 400, String(slug));
    t.equal(res.json().error.code, 'VALIDATION_FAILED');
    t.match(res.json().error.message, /^body\.slug /);
    t.match(res.json().error.message, rule!);
  }

  const upgrade = op('/upgrades', 'post').requestBody!.content['application/json']!.schema as { oneOf: unknown[] };
  t.same(upgrade.oneOf, [{ required: ['all'], properties: { all: { enum: [true] } } }, { required: ['tenants'] }, { required: ['filter'] }]);
  for (const body of [{ toVersion: '1.0.0' }, { toVersion: '1.0.0', all: true, tenants: ['abc'] }]) {
    const res = await call('POST', '/upgrades', admin, body);
    t.equal(res.statusCode, 400);
    t.match(res.json().error.message, /exactly one of "all": true, "tenants": \[slugs\] or "filter"/);
  }

  const del = op('/tenants/{slug}', 'delete');
  t.match(del.parameters!.find((p) => p.name === 'confirm')!, { description: /the slug again/ });
  t.match(del.responses['400']!.description, /CONFIRMATION_REQUIRED/);

  t.equal((await call('POST', '/tokens', admin, { name: false, scope: 'read' })).statusCode, 400, 'a body field is never coerced to its type');
});

t.test('format email accepts the first operator\'s kind of address, admin@localhost', async (t) => {
  const schema = op('/operators', 'post').requestBody!.content['application/json']!.schema as { properties: { email: Record<string, unknown> } };
  t.match(schema.properties.email, { format: 'email', maxLength: 254 });
  const made = await call('POST', '/operators', admin, { email: 'someone@localhost', name: 'Someone' });
  t.equal(made.statusCode, 201, made.body);
  const bad = await call('POST', '/operators', admin, { email: 'someone at localhost', name: 'Someone' });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().error.message, /^body\.email must match format "email"/);
  t.equal((await call('POST', '/operators', admin, { email: `${'a'.repeat(250)}@localhost`, name: 'Long' })).statusCode, 400, 'over 254 characters');
});

t.test('the event stream sends its headers and a first comment at once', async (t) => {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  t.ok(url);
  // Nothing is published meanwhile: a stream that waited for its first event would never answer.
  const started = performance.now();
  const first = await new Promise<{ status: number; type: string; chunk: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events/stream?tenant=tnobody-here', headers: admin }, (res) => {
      res.once('data', (chunk: Buffer) => {
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), chunk: chunk.toString() });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
  });
  t.comment(`first bytes after ${Math.round(performance.now() - started)} ms`);
  t.equal(first.status, 200);
  t.equal(first.type, 'text/event-stream');
  t.equal(first.chunk, ': connected\n\n');
});
