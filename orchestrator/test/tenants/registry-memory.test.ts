// The registry answers reads from memory and writes through to MongoDB: after
// every kind of write, what it answers equals what the database holds, a fresh
// repository (an orchestrator restart) loads the same, and a cached document
// cannot be changed behind the database's back. Real FerretDB.
import t, { type Test } from 'tap';
import { TenantsRepository } from '../../src/tenants/tenants.repository.js';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';
import { startFerretDb } from '../helpers/ferretdb.js';

const { db } = await startFerretDb('registry-mem');
const repo = new TenantsRepository(db);
await repo.init();
const stored = (slug: string) => db.collection<TenantDoc>('tenants').findOne({ _id: slug });

function doc(slug: string, port: number): TenantDoc {
  const now = new Date();
  return {
    _id: slug, displayName: slug, plan: 'starter', template: 'tenant', templateVersion: 1, appVersion: '1.0.0',
    phase: 'provisioning', desired: 'running', port, secrets: { v: 1, iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' },
    createdAt: now, updatedAt: now
  };
}

async function same(t: Test, slug: string, what: string): Promise<void> {
  t.same(await repo.get(slug), await stored(slug), `${what}: memory equals the database`);
}

t.test('every write lands in memory as the database stored it', async (t) => {
  t.equal(await repo.insert(doc('mem-a', 41001)), 'ok');
  await same(t, 'mem-a', 'insert');
  t.equal(await repo.insert(doc('mem-b', 41001)), 'port-taken', 'a taken port is refused by the unique index');
  t.equal(await repo.get('mem-b'), null, 'and nothing of it is cached');
  await t.rejects(repo.insert(doc('mem-a', 41002)), { code: 'TENANT_EXISTS' });

  const op = { id: 'op-1', kind: 'create' as const, owner: 'me', startedAt: new Date(), step: 'start' };
  const begun = await repo.beginOperation('mem-a', op, ['provisioning']);
  t.equal(begun.operation?.id, 'op-1');
  await same(t, 'mem-a', 'beginOperation');
  await t.rejects(repo.beginOperation('mem-a', { ...op, id: 'op-2' }, ['provisioning']), { code: 'OPERATION_CONFLICT' }, 'the lock holds');

  await repo.setStep('mem-a', 'op-1', 'db:starting');
  t.equal((await repo.get('mem-a'))?.operation?.step, 'db:starting');
  await same(t, 'mem-a', 'setStep');

  t.equal(await repo.updateUnderOperation('mem-a', 'op-1', { $set: { port: 41003 } }), true);
  t.equal(await repo.updateUnderOperation('mem-a', 'op-other', { $set: { port: 41004 } }), false, 'another operation cannot write');
  t.equal((await repo.get('mem-a'))?.port, 41003);
  await same(t, 'mem-a', 'updateUnderOperation');

  await repo.endOperation('mem-a', 'op-1', { $set: { phase: 'running' } });
  t.notOk((await repo.get('mem-a'))?.operation, 'the lock is released in memory');
  t.equal((await repo.get('mem-a'))?.phase, 'running');
  await same(t, 'mem-a', 'endOperation');

  await repo.update('mem-a', { $set: { desired: 'stopped' }, $unset: { lastError: '' } });
  await same(t, 'mem-a', 'update');

  t.same(await repo.countByPhase(), { running: 1 });
  t.same([...(await repo.usedPorts())], [41003]);
  t.equal(await repo.portTakenByOther(41003, 'mem-z'), true);
  t.equal(await repo.portTakenByOther(41003, 'mem-a'), false);
});

t.test('a cached document cannot be changed behind the database', async (t) => {
  const cached = (await repo.get('mem-a'))!;
  t.throws(() => { (cached as { phase: string }).phase = 'failed'; }, TypeError, 'frozen');
  t.throws(() => { (cached.secrets as { data: string }).data = 'x'; }, TypeError, 'nested objects too');
  t.equal((await repo.get('mem-a'))?.phase, 'running');
});

t.test('a restart loads the same registry; list is sorted and filtered in memory', async (t) => {
  await repo.insert(doc('mem-c', 41010));
  await repo.insert(doc('mem-b', 41011));
  const fresh = new TenantsRepository(db);
  await fresh.init();
  t.same(await fresh.list(), await repo.list(), 'the same documents after a restart');
  t.same((await repo.list()).map((d) => d._id), ['mem-a', 'mem-b', 'mem-c'], 'sorted by slug');
  t.same((await repo.list({ phase: 'provisioning' })).map((d) => d._id), ['mem-b', 'mem-c']);
  t.same(await repo.list(), await db.collection<TenantDoc>('tenants').find({}).sort({ _id: 1 }).toArray(), 'equal to the database');
});

t.test('remove forgets only what the database deleted', async (t) => {
  await repo.beginOperation('mem-c', { id: 'op-del', kind: 'delete', owner: 'me', startedAt: new Date(), step: 'x' }, ['provisioning']);
  await repo.remove('mem-c', 'op-wrong');
  t.ok(await repo.get('mem-c'), 'another operation cannot delete it');
  await repo.remove('mem-c', 'op-del');
  t.equal(await repo.get('mem-c'), null);
  t.equal(await stored('mem-c'), null);
});
