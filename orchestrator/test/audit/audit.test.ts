// The audit log through fastify, against a real FerretDB: what is recorded
// (every write, refused ones too), what never is (bodies, tokens), the filters,
// and that a failing audit write never fails or delays a request.
import t from 'tap';
import { AuditRepository, type AuditEntry } from '../../src/audit/audit.repository.js';
import { TokensService } from '../../src/auth/tokens.service.js';
import { bearer, buildTestApp, logCapture, startTestDb } from '../auth/fixtures/harness.js';

const { db } = await startTestDb(t, 'audit');
const tokens = new TokensService(db);
const audit = new AuditRepository(db);
await tokens.init();
await audit.init();
const app = await buildTestApp({ tokens, audit });
t.teardown(() => app.close());

const read = await tokens.create({ name: 'reader', scope: 'read' });
const write = await tokens.create({ name: 'deployer', scope: 'write' });
const admin = await tokens.create({ name: 'root', scope: 'admin' });
const SECRET = 'hunter2-do-not-store';

const action = (slug: string, what: string, token?: string, payload: object = {}) =>
  app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/actions/${what}`, headers: token ? bearer(token) : {}, payload });
/** The entries after the writes under way have landed (they are written after the response, unawaited). */
const entries = async (query: Parameters<AuditRepository['list']>[0] = {}) => {
  await audit.flush();
  return audit.list(query);
};
const ACTION = 'POST /api/v1/tenants/:slug/actions/:action';

t.test('a successful write is recorded: who, route pattern, target, status, ok', async (t) => {
  const a = await action('acme', 'start', write.token, { password: SECRET });
  t.equal(a.statusCode, 202);
  const [entry] = await entries({ tenant: 'acme' });
  t.match(entry, {
    actor: { tokenId: write.info.id, name: 'deployer' },
    action: ACTION,
    target: { tenant: 'acme', action: 'start' },
    status: 202,
    result: 'ok',
    ip: '127.0.0.1'
  });
  t.ok(entry!.at instanceof Date && Date.now() - entry!.at.getTime() < 60_000, 'at is now');
});

t.test('refused writes are recorded with the error code: 401 without an actor, 403 with one, 400', async (t) => {
  t.equal((await action('beta', 'stop')).statusCode, 401);
  t.equal((await action('beta', 'stop', 'berth_000000000000_' + 'A'.repeat(43))).statusCode, 401);
  t.equal((await action('beta', 'restart', read.token)).statusCode, 403);
  t.equal((await action('Not_A_Slug', 'stop', write.token)).statusCode, 400);
  const beta = await entries({ tenant: 'beta' });
  t.same(beta.map((e) => [e.actor?.name ?? null, e.status, e.result]).reverse(), [
    [null, 401, 'UNAUTHENTICATED'],
    [null, 401, 'UNAUTHENTICATED'],
    ['reader', 403, 'FORBIDDEN']
  ]);
  t.match((await entries({ tenant: 'Not_A_Slug' }))[0], { status: 400, result: 'VALIDATION_FAILED', actor: { name: 'deployer' } });
});

t.test('token routes are audited too, with the token id as target', async (t) => {
  const made = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(admin.token), payload: { name: 'temp', scope: 'read' } });
  const { id } = made.json() as { id: string };
  await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: bearer(admin.token) });
  const [del] = await entries({ action: 'DELETE /api/v1/tokens/:id' });
  t.match(del, { actor: { name: 'root' }, target: { id }, status: 204, result: 'ok' });
  const [post] = await entries({ action: 'POST /api/v1/tokens' });
  t.match(post, { status: 201, result: 'ok' });
});

t.test('reads and unknown routes are not recorded', async (t) => {
  const before = (await entries({ limit: 500 })).length;
  await app.inject({ method: 'GET', url: '/api/v1/things', headers: bearer(read.token) });
  await app.inject({ method: 'GET', url: '/api/v1/audit', headers: bearer(admin.token) });
  await app.inject({ method: 'POST', url: '/api/v1/no-such-route', headers: bearer(admin.token), payload: {} });
  t.equal((await entries({ limit: 500 })).length, before);
});

t.test('no body and no token is ever stored', async (t) => {
  const dump = JSON.stringify(await db.collection('audit_log').find({}).toArray());
  t.notOk(dump.includes(SECRET), 'the body secret is nowhere');
  t.notOk(dump.includes('password'), 'not even the body field name');
  for (const { token } of [read, write, admin]) t.notOk(dump.includes(token.slice(20)), 'no token secret');
  t.notOk(dump.includes('berth_'), 'no token text at all');
});

t.test('filters: actor (id or name), action, tenant, result, since, limit', async (t) => {
  await action('gamma', 'start', write.token);
  await action('gamma', 'stop', admin.token);
  await action('delta', 'stop', admin.token);
  t.same((await entries({ tenant: 'gamma' })).map((e) => e.target.action), ['stop', 'start'], 'tenant, newest first');
  // Each filter returns exactly the entries the whole log holds for it: some
  // (an empty answer would pass any per-entry check), and no others.
  const all = await entries({ limit: 500 });
  t.ok(all.length < 500, 'the whole log fits in one page');
  const exactly = async (query: Parameters<AuditRepository['list']>[0], keep: (e: AuditEntry) => boolean, what: string) => {
    const want = all.filter(keep);
    t.ok(want.length > 0, `${what}: the log has entries to find`);
    t.same(await entries(query), want, what);
  };
  await exactly({ actor: 'root' }, (e) => e.actor?.name === 'root', 'actor by name');
  await exactly({ actor: admin.info.id }, (e) => e.actor?.tokenId === admin.info.id, 'actor by token id');
  await exactly({ result: 'FORBIDDEN' }, (e) => e.result === 'FORBIDDEN', 'result');
  await exactly({ action: ACTION }, (e) => e.action === ACTION, 'action');
  t.equal((await entries({ limit: 2 })).length, 2, 'limit');
  t.same(await entries({ since: new Date(Date.now() + 60_000) }), [], 'since');
  t.same(await entries({ tenant: 'gamma', actor: 'reader' }), [], 'filters combine');
});

t.test('GET /api/v1/audit: admin only, filters from the query, limit at most 500', async (t) => {
  const get = (query: string, token = admin.token) => app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: bearer(token) });
  const a = await get(`?tenant=gamma&actor=${write.info.id}`);
  t.equal(a.statusCode, 200);
  const body = a.json() as { entries: Array<AuditEntry & { at: string }> };
  t.equal(body.entries.length, 1);
  t.match(body.entries[0], { action: ACTION, actor: { name: 'deployer' }, target: { tenant: 'gamma', action: 'start' }, result: 'ok', status: 202 });
  t.ok(!Number.isNaN(Date.parse(body.entries[0]!.at)), 'at is a date-time');
  const refused = (await get('?result=UNAUTHENTICATED')).json() as { entries: AuditEntry[] };
  t.equal(refused.entries.length, 2, 'the two 401s made above');
  t.ok(refused.entries.every((e) => e.actor === null && e.result === 'UNAUTHENTICATED'), 'actor null for 401s');
  t.equal((await get('?limit=2')).json().entries.length, 2);
  t.equal((await get('?limit=501')).statusCode, 400, 'limit > 500 refused');
  t.equal((await get('?password=x')).statusCode, 400, 'unknown filter refused');
  t.equal((await get('', write.token)).statusCode, 403, 'write tokens cannot read the audit');
});

t.test('a failing or slow audit write neither fails nor delays the response; it logs a warning', async (t) => {
  let called!: () => void;
  const wasCalled = new Promise<void>((resolve) => (called = resolve));
  let fail!: (err: Error) => void;
  class StuckAudit extends AuditRepository {
    override record(): Promise<void> {
      called();
      return new Promise((_resolve, reject) => (fail = reject));
    }
  }
  let warned!: (line: string) => void;
  const warning = new Promise<string>((resolve) => (warned = resolve));
  const log = logCapture((line) => line.includes('audit entry not written') && warned(line));
  const broken = await buildTestApp({ tokens, audit: new StuckAudit(db) }, log);
  t.teardown(() => broken.close());

  const a = await broken.inject({ method: 'POST', url: '/api/v1/tenants/acme/actions/start', headers: bearer(write.token), payload: {} });
  t.equal(a.statusCode, 202, 'answered although the audit write never settles');
  await wasCalled;
  fail(new Error('disk full'));
  const line = JSON.parse(await warning) as { level: number; err: { message: string }; action: string };
  t.equal(line.level, 40, 'a warning');
  t.equal(line.err.message, 'disk full');
  t.equal(line.action, ACTION);
});
