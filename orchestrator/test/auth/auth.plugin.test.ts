// The auth hook and the tokens routes through fastify, against a real FerretDB.
import t from 'tap';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import { TokensService } from '../../src/auth/tokens.service.js';
import { bearer, buildTestApp, logCapture, startTestDb } from './fixtures/harness.js';

const { db } = await startTestDb(t, 'authplugin');
const tokens = new TokensService(db);
const audit = new AuditRepository(db);
await tokens.init();
await audit.init();
const log = logCapture();
const app = await buildTestApp({ tokens, audit }, log);
t.teardown(() => app.close());

const read = await tokens.create({ name: 'reader', scope: 'read' });
const write = await tokens.create({ name: 'writer', scope: 'write' });
const admin = await tokens.create({ name: 'root', scope: 'admin' });
const revoked = await tokens.create({ name: 'gone', scope: 'admin' });
await tokens.revoke(revoked.info.id);
const unknown = `berth_${'0'.repeat(12)}_${'A'.repeat(43)}`;

type Answer = { statusCode: number; body: string; json(): { error?: { code: string; message: string } } & Record<string, unknown> };
const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string, payload?: object): Promise<Answer> =>
  app.inject({ method, url, headers: token === undefined ? {} : bearer(token), payload });
const code = (a: Answer) => a.json().error?.code;

t.test('no token: 401 saying how to send one', async (t) => {
  const a = await call('GET', '/api/v1/things');
  t.equal(a.statusCode, 401);
  t.equal(code(a), 'UNAUTHENTICATED');
  t.match(a.json().error!.message, /Authorization: Bearer <token>/);
});

t.test('malformed, unknown and revoked tokens: 401', async (t) => {
  const headers = {
    'Basic scheme': `Basic ${Buffer.from('a:b').toString('base64')}`,
    'Bearer and nothing': 'Bearer',
    'Bearer garbage': 'Bearer not-a-token',
    'two tokens': `Bearer ${read.token} ${write.token}`,
    'unknown token': `Bearer ${unknown}`,
    'revoked token': `Bearer ${revoked.token}`
  };
  for (const [what, authorization] of Object.entries(headers)) {
    const a = await app.inject({ method: 'GET', url: '/api/v1/things', headers: { authorization } });
    t.equal(a.statusCode, 401, what);
    t.equal(code(a as Answer), 'UNAUTHENTICATED', what);
  }
});

t.test('a read token reads, and gets 403 naming both scopes on a write route', async (t) => {
  const ok = await call('GET', '/api/v1/things', read.token);
  t.equal(ok.statusCode, 200);
  t.same(ok.json().principal, { tokenId: read.info.id, name: 'reader', scope: 'read' }, 'request.principal is set');
  const refused = await call('POST', '/api/v1/things', read.token, {});
  t.equal(refused.statusCode, 403);
  t.equal(code(refused), 'FORBIDDEN');
  t.match(refused.json().error!.message, /needs scope "write".*has scope "read"/);
});

t.test('scopes nest: write ⊂ admin; a route without a scope needs admin', async (t) => {
  t.equal((await call('GET', '/api/v1/things', write.token)).statusCode, 200, 'write reads');
  t.equal((await call('POST', '/api/v1/things', write.token, {})).statusCode, 201, 'write writes');
  t.equal((await call('GET', '/api/v1/things', admin.token)).statusCode, 200, 'admin reads');
  t.equal((await call('POST', '/api/v1/things', admin.token, {})).statusCode, 201, 'admin writes');
  const denied = await call('GET', '/api/v1/admin-only', write.token);
  t.equal(denied.statusCode, 403, 'no declared scope: write is not enough');
  t.match(denied.json().error!.message, /needs scope "admin"/);
  t.equal((await call('GET', '/api/v1/admin-only')).statusCode, 401, 'no declared scope: no token is 401');
  t.equal((await call('GET', '/api/v1/admin-only', admin.token)).statusCode, 200, 'admin passes');
});

t.test('public routes need no token, and ignore a bad one', async (t) => {
  const a = await call('GET', '/api/v1/open');
  t.equal(a.statusCode, 200);
  t.same(a.json(), { open: true, principal: null });
  t.equal((await call('GET', '/api/v1/open', 'garbage')).statusCode, 200);
});

t.test('unknown paths are 404 with or without a token, never 401', async (t) => {
  for (const token of [undefined, 'garbage', admin.token]) {
    for (const method of ['GET', 'POST'] as const) {
      const a = await call(method, '/api/v1/no-such-thing', token);
      t.equal(a.statusCode, 404, `${method} with ${token === undefined ? 'no token' : token === admin.token ? 'an admin token' : 'a bad token'}`);
      t.equal(code(a), 'NOT_FOUND');
    }
  }
});

t.test('access_token in the query is refused on plain HTTP requests', async (t) => {
  const a = await call('GET', `/api/v1/things?access_token=${read.token}`);
  t.equal(a.statusCode, 401);
  const fake = await app.inject({ method: 'GET', url: `/api/v1/things?access_token=${read.token}`, headers: { upgrade: 'websocket' } });
  t.equal(fake.statusCode, 401, 'an Upgrade header on a request that is not a real upgrade is not enough');
});

t.test('WebSocket upgrades take the token from access_token (or the header), and are refused before opening without one', async (t) => {
  // The server speaks first, maybe in the same chunk as the handshake: listen from before 'open'.
  const firstMessage = async (path: string, context = {}) => {
    let resolve!: (text: string) => void;
    const message = new Promise<string>((r) => (resolve = r));
    const socket = await app.injectWS(path, context, { onInit: (ws) => ws.once('message', (data: Buffer) => resolve(String(data))) });
    const text = await message;
    socket.terminate();
    return JSON.parse(text) as unknown;
  };
  t.same(
    await firstMessage(`/api/v1/ws?access_token=${encodeURIComponent(read.token)}`),
    { tokenId: read.info.id, name: 'reader', scope: 'read' },
    'query token authenticates the socket'
  );
  t.same(await firstMessage('/api/v1/ws', { headers: bearer(write.token) }), { tokenId: write.info.id, name: 'writer', scope: 'write' }, 'header token works too');
  await t.rejects(app.injectWS('/api/v1/ws'), /Unexpected server response: 401/, 'no token: 401, no socket');
  await t.rejects(app.injectWS(`/api/v1/ws?access_token=${revoked.token}`), /Unexpected server response: 401/, 'revoked token: 401');
  await t.rejects(app.injectWS(`/api/v1/ws?access_token=${unknown}`), /Unexpected server response: 401/, 'unknown token: 401');
});

t.test('tokens routes: admin makes, lists and revokes tokens; the secret is shown once', async (t) => {
  const made = await call('POST', '/api/v1/tokens', admin.token, { name: 'pipeline', scope: 'write' });
  t.equal(made.statusCode, 201);
  const body = made.json() as { token: string; id: string; name: string; scope: string; createdAt: string };
  t.match(body, { name: 'pipeline', scope: 'write', id: /^[0-9a-f]{12}$/, token: /^berth_[0-9a-f]{12}_/ });
  t.ok(!Number.isNaN(Date.parse(body.createdAt)), 'createdAt is a date');
  t.equal((await call('POST', '/api/v1/things', body.token, {})).statusCode, 201, 'the new token works');

  const listed = await call('GET', '/api/v1/tokens', admin.token);
  t.equal(listed.statusCode, 200);
  const entries = (listed.json() as unknown as { tokens: Array<Record<string, unknown>> }).tokens;
  t.ok(entries.some((e) => e.id === body.id && e.name === 'pipeline'), 'the new token is listed');
  t.ok(entries.every((e) => !('token' in e) && !('secretHash' in e)), 'no token text or hash in the list');
  for (const secret of [body.token, read.token, admin.token]) t.notOk(listed.body.includes(secret.slice(20)), 'no secret in the list body');
  t.ok(entries.find((e) => e.id === revoked.info.id)?.revokedAt, 'revoked tokens are listed with revokedAt');

  const gone = await call('DELETE', `/api/v1/tokens/${body.id}`, admin.token);
  t.equal(gone.statusCode, 204);
  t.equal(gone.body, '');
  t.equal((await call('GET', '/api/v1/things', body.token)).statusCode, 401, 'a revoked token is refused at once');

  const missing = await call('DELETE', '/api/v1/tokens/abcdefabcdef', admin.token);
  t.equal(missing.statusCode, 404);
  t.equal(code(missing), 'TOKEN_NOT_FOUND');
});

t.test('tokens routes validate input and need admin', async (t) => {
  for (const payload of [{ name: 'x' }, { name: '', scope: 'read' }, { name: 'ok', scope: 'root' }, { name: 'ok', scope: 'read', extra: 1 }, { name: 'a/b', scope: 'read' }]) {
    const a = await call('POST', '/api/v1/tokens', admin.token, payload);
    t.equal(a.statusCode, 400, JSON.stringify(payload));
    t.equal(code(a), 'VALIDATION_FAILED');
  }
  t.equal((await call('DELETE', '/api/v1/tokens/not-an-id', admin.token)).statusCode, 400, 'malformed id');
  t.equal((await call('POST', '/api/v1/tokens', write.token, { name: 'escalate', scope: 'admin' })).statusCode, 403, 'write cannot mint tokens');
  t.equal((await call('GET', '/api/v1/tokens', write.token)).statusCode, 403, 'write cannot list tokens');
  t.equal((await call('DELETE', `/api/v1/tokens/${admin.info.id}`, read.token)).statusCode, 403, 'read cannot revoke');
  t.equal((await call('GET', '/api/v1/audit', write.token)).statusCode, 403, 'write cannot read the audit log');
});

t.test('the OpenAPI document describes the tokens and audit routes with their schemas', async (t) => {
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>> };
  t.ok(doc.paths['/api/v1/tokens']?.post?.requestBody, 'POST /tokens has a body schema');
  t.ok(doc.paths['/api/v1/tokens']?.post?.responses['201'], 'POST /tokens documents 201');
  t.ok(doc.paths['/api/v1/tokens']?.post?.responses['403'], 'and its errors');
  t.ok(doc.paths['/api/v1/tokens/{id}']?.delete?.responses['204']);
  t.ok(doc.paths['/api/v1/audit']?.get?.responses['200']);
});

t.test('no token ever reaches the log, not even one sent in a WebSocket URL', async (t) => {
  const all = log.lines.join('');
  t.ok(all.includes('access_token=[redacted]'), 'the query token was redacted from the request log');
  for (const { token } of [read, write, admin, revoked]) t.notOk(all.includes(token.slice(20)), 'no secret in the log');
});
