// TokensService against a real FerretDB: format, storage, authentication, revocation, throttled lastUsedAt.
import t from 'tap';
import { createHash } from 'node:crypto';
import { BerthError } from '../../src/errors.js';
import { TokensService } from '../../src/auth/tokens.service.js';
import { startTestDb } from './fixtures/harness.js';

const { db } = await startTestDb(t, 'tokens');
let now = new Date('2030-01-01T00:00:00Z');
const tokens = new TokensService(db, () => now);
await tokens.init();

const FORMAT = /^berth_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const codeOf = (err: unknown) => (err instanceof BerthError ? err.code : String(err));

t.test('create returns berth_<12 hex>_<43 base64url> once, with its info', async (t) => {
  const { token, info } = await tokens.create({ name: 'ci deploy-1.x', scope: 'write' });
  const match = FORMAT.exec(token);
  t.ok(match, `token has the documented format: ${token.slice(0, 19)}…`);
  t.equal(match?.[1], info.id, 'the id in the token is the lookup key');
  t.same(info, { id: info.id, name: 'ci deploy-1.x', scope: 'write', createdAt: now });
  const other = await tokens.create({ name: 'ci deploy-1.x', scope: 'write' });
  t.not(other.token, token, 'every token is new randomness');
  t.not(other.info.id, info.id);
});

t.test('the token text never appears in list() or anywhere in the database; only a hash of its secret', async (t) => {
  const { token, info } = await tokens.create({ name: 'scan-me', scope: 'admin' });
  const secret = FORMAT.exec(token)![2]!;
  const listed = JSON.stringify(await tokens.list());
  t.notOk(listed.includes(secret), 'list() holds no secret');
  t.notOk(/hash/i.test(listed), 'list() holds no hash field');
  t.ok(listed.includes(info.id), 'list() shows the id');

  const raw = await db.collection('api_tokens').find({}).toArray();
  const dump = JSON.stringify(raw);
  t.notOk(dump.includes(secret), 'the secret is in no stored document');
  t.notOk(dump.includes(token), 'the token is in no stored document');
  const doc = raw.find((d) => d._id === (info.id as unknown))!;
  t.not(doc.secretHash, token, 'the stored hash is not the token');
  t.equal(doc.secretHash, createHash('sha256').update(secret).digest('hex'), 'it is the SHA-256 of the secret');
});

t.test('authenticate: the principal for a good token, null for anything else', async (t) => {
  const { token, info } = await tokens.create({ name: 'reader', scope: 'read' });
  t.same(await tokens.authenticate(token), { tokenId: info.id, name: 'reader', scope: 'read' });

  const [, id, secret] = FORMAT.exec(token)!;
  const flipped = secret!.slice(0, -1) + (secret!.endsWith('A') ? 'B' : 'A');
  const bad = {
    empty: '',
    'no prefix': `${id}_${secret}`,
    'other prefix': `ghp_${id}_${secret}`,
    'upper-case id': `berth_${id!.toUpperCase()}_${secret}`,
    'short secret': `berth_${id}_${secret!.slice(1)}`,
    'trailing space': `${token} `,
    'wrong secret, right id': `berth_${id}_${flipped}`,
    'unknown id': `berth_000000000000_${secret}`
  };
  for (const [what, candidate] of Object.entries(bad)) t.equal(await tokens.authenticate(candidate), null, what);
});

t.test('revoke: a revoked token no longer authenticates; revoking again keeps the first date; unknown id is TOKEN_NOT_FOUND', async (t) => {
  const { token, info } = await tokens.create({ name: 'short-lived', scope: 'admin' });
  const revokedAt = new Date(now.getTime() + 1000);
  now = revokedAt;
  await tokens.revoke(info.id);
  t.equal(await tokens.authenticate(token), null);
  now = new Date(now.getTime() + 5000);
  await tokens.revoke(info.id);
  t.same((await tokens.list()).find((x) => x.id === info.id)?.revokedAt, revokedAt, 'first revocation date kept');
  const err = await tokens.revoke('abcdefabcdef').catch((e: unknown) => e);
  t.equal(codeOf(err), 'TOKEN_NOT_FOUND');
});

t.test('create validates name and scope', async (t) => {
  for (const name of ['', 'x'.repeat(65), '<script>', 'tab\there', 'ünïcode']) {
    t.equal(codeOf(await tokens.create({ name, scope: 'read' }).catch((e: unknown) => e)), 'VALIDATION_FAILED', `name ${JSON.stringify(name)}`);
  }
  t.equal(codeOf(await tokens.create({ name: 'ok', scope: 'root' as 'admin' }).catch((e: unknown) => e)), 'VALIDATION_FAILED', 'scope root');
  t.ok(await tokens.create({ name: 'x'.repeat(64), scope: 'read' }), '64 characters is fine');
});

t.test('lastUsedAt is written on first use, then at most once a minute', async (t) => {
  const { token, info } = await tokens.create({ name: 'busy', scope: 'read' });
  const lastUsed = async () => (await tokens.list()).find((x) => x.id === info.id)?.lastUsedAt;
  t.equal(await lastUsed(), undefined, 'never used yet');
  const first = new Date(now.getTime() + 10_000);
  now = first;
  await tokens.authenticate(token);
  t.same(await lastUsed(), first, 'first use recorded');
  now = new Date(first.getTime() + 59_000);
  await tokens.authenticate(token);
  t.same(await lastUsed(), first, 'a use 59 s later writes nothing');
  const later = new Date(first.getTime() + 60_000);
  now = later;
  await tokens.authenticate(token);
  t.same(await lastUsed(), later, 'a use a minute later is recorded');
});

t.test('count counts every token ever made, revoked ones included', async (t) => {
  const before = await tokens.count();
  const { info } = await tokens.create({ name: 'counted', scope: 'read' });
  await tokens.revoke(info.id);
  t.equal(await tokens.count(), before + 1);
  t.equal(before, (await tokens.list()).length - 1);
});
