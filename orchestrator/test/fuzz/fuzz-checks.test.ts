// The fuzz run's own checks (fuzz-checks.ts) can fail: a touched bystander,
// a write that reached a bystander, and a write accepted without its scope
// are each reported.
import t from 'tap';
import { config, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { bystanderChanges, bystanderWrites, scopeViolations, snapshotBystanders } from './fuzz-checks.js';

// As on the fuzz platform: stacks name an image that is not here, so a create fails at once.
const tp = await startTestPlatform('fchk', { images: { ...config.images, storage: 'berth-fuzz/absent:0' } });
t.teardown(() => tp.close());
const { platform } = tp;

t.test('a revoked token, a reset operator and a changed tenant are reported', async (t) => {
  const read = await platform.tokens.create({ name: 'r', scope: 'read' });
  const { operator } = await platform.operators.operators.bootstrap({ email: 'admin@localhost', name: 'First' });
  const slug = testSlug('fchk');
  t.equal((await operationEnd(platform.events, (await platform.tenants.create({ slug })).operation.id)).type, 'operation.failed');
  const before = await snapshotBystanders(platform, operator.id, slug);
  t.same(await bystanderChanges(platform, before), [], 'nothing changed yet');
  await platform.tokens.revoke(read.info.id);
  await platform.operators.operators.reset(operator.id);
  await platform.repo.update(slug, { $set: { displayName: 'changed' } });
  const problems = await bystanderChanges(platform, before);
  t.match(problems, [/operator admin@localhost was changed/, new RegExp(`tenant ${slug} was changed`), /token r was revoked/]);

  // A write the hook let through to a bystander, refused or not, is reported: the real
  // route (an owner link for a team without an owner is refused, and changes nothing).
  t.same(await bystanderWrites(platform, before), [], 'no write reached a bystander yet');
  const refused = await platform.app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/owner-link`, headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(refused.statusCode, 409, refused.body);
  t.match(await bystanderWrites(platform, before), [new RegExp(`^POST /api/v1/tenants/:slug/owner-link reached bystander ${slug} \\(409 (OWNER_UNKNOWN|OPERATION_CONFLICT)\\)`)]);
  await platform.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${read.info.id}`, headers: { authorization: `Bearer ${tp.token}` } });
  t.equal((await bystanderWrites(platform, before)).filter((p) => p.includes(`reached bystander ${read.info.id}`)).length, 1, 'a token named in the path too');
});

t.test('a write accepted from the read token or no token is reported, by the scope its operation documents', async (t) => {
  await platform.app.ready();
  const before = await scopeViolations(platform, 'readtokenid0');
  t.same(before.problems, []);
  const at = new Date();
  await platform.db.db.collection('audit_log').insertMany([
    { at, actor: { tokenId: 'readtokenid0', name: 'r' }, action: 'POST /api/v1/tenants', target: {}, status: 202, result: 'ok', ip: '127.0.0.1' },
    { at, actor: null, action: 'DELETE /api/v1/tokens/:id', target: { id: 'x' }, status: 204, result: 'ok', ip: '127.0.0.1' },
    { at, actor: { tokenId: 'readtokenid0', name: 'r' }, action: 'POST /api/v1/upgrades/preview', target: {}, status: 200, result: 'ok', ip: '127.0.0.1' },
    { at, actor: null, action: 'POST /api/v1/auth/login', target: {}, status: 200, result: 'ok', ip: '127.0.0.1' }
  ]);
  const after = await scopeViolations(platform, 'readtokenid0');
  t.match(after.problems, [/POST \/api\/v1\/tenants \(needs write\) was accepted \(202\) from the read token/, /DELETE \/api\/v1\/tokens\/:id \(needs admin\) was accepted \(204\) from no token/]);
  t.equal(after.problems.length, 2, 'a read-scope POST and a public one are no violation');
});
