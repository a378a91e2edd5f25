// Migrations on a real FerretDB, run by really starting the app: an empty
// database gets every step and the indexes; a database seeded with the older
// schema (items without order/description/assignee, members stored as typed)
// is upgraded and usable; a second start changes nothing.
import t from 'tap';
import { MongoClient, type Db } from 'mongodb';
import { hashPassword } from '../src/lib/server/members/passwords.js';
import { MIGRATIONS } from '../src/lib/server/migrations/migrations.js';
import { startApp, stackEnv } from './helpers/app.js';
import { signIn } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

let services: Services;
let mongo: MongoClient;
const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

t.before(async () => {
  services = await startServices('migrate');
  mongo = new MongoClient(services.mongoUrl('admin'));
});

t.teardown(async () => {
  await mongo?.close();
  await services?.stop();
});

/** Everything in the app's collections, for before/after comparisons. */
async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const name of ['members', 'items', 'attachments', 'migrations']) out[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return out;
}

async function indexNames(db: Db, collection: string): Promise<string[]> {
  return (await db.collection(collection).indexes()).map((i) => i.name ?? '').sort();
}

async function startAndStop(database: string): Promise<Record<string, unknown>[]> {
  const app = await startApp({ ...stackEnv(services, database, `bucket-${database}`), LOG_LEVEL: 'info' });
  await app.stop();
  return app.logs;
}

t.test('from an empty database: every step recorded, indexes made; a second start changes nothing', async (t) => {
  const db = mongo.db('empty');
  const logs = await startAndStop('empty');
  const records = await db.collection('migrations').find({}).sort({ _id: 1 }).toArray();
  t.same(records.map((r) => r._id), MIGRATIONS.map((m) => m.version), 'each migration recorded once, in order');
  t.ok(records.every((r) => r.appVersion === '9.9.9-test' && r.appliedAt instanceof Date));
  t.match(logs.find((l) => l.msg === 'migrations applied'), { applied: MIGRATIONS.map((m) => `${m.version}-${m.name}`), schema: LATEST });
  t.same(await indexNames(db, 'members'), ['_id_', 'email_unique', 'token_hash']);
  t.same(await indexNames(db, 'items'), ['_id_', 'assignee', 'column_order']);
  t.same(await indexNames(db, 'sessions'), ['_id_', 'expires', 'member']);
  t.same(await indexNames(db, 'attachments'), ['_id_', 'item']);
  t.equal(await db.collection('migration_lock').countDocuments(), 0, 'the lock is released');

  const before = await snapshot(db);
  const again = await startAndStop('empty');
  t.match(again.find((l) => String(l.msg).startsWith('schema')), { msg: 'schema up to date', applied: [] });
  t.same(await snapshot(db), before, 'the second start changed nothing');
});

t.test('from a seeded older schema: upgraded, and the old data works', async (t) => {
  const db = mongo.db('older');
  const created = (n: number) => new Date(Date.UTC(2025, 0, n));
  // The board prototype: no order, no description, no assignee, no updatedAt;
  // members stored with the address as typed and without token fields.
  await db.collection('members').insertOne({
    _id: 'a'.repeat(32) as never, email: 'Old.Owner@Example.COM', name: 'Old Owner', role: 'owner', status: 'active',
    passwordHash: await hashPassword('old owner password'), createdAt: created(1)
  });
  await db.collection('items').insertMany([
    { _id: '1'.repeat(32) as never, title: 'second todo', status: 'todo', createdBy: 'a'.repeat(32), createdAt: created(3) },
    { _id: '2'.repeat(32) as never, title: 'first todo', status: 'todo', createdBy: 'a'.repeat(32), createdAt: created(2) },
    { _id: '3'.repeat(32) as never, title: 'done one', status: 'done', createdBy: 'a'.repeat(32), createdAt: created(4) }
  ]);
  const logs = await startAndStop('older');
  t.match(logs.find((l) => l.msg === 'migrations applied'), { applied: MIGRATIONS.map((m) => `${m.version}-${m.name}`) }, 'every step ran');
  t.same((await db.collection('migrations').find({}).sort({ _id: 1 }).toArray()).map((r) => r._id), MIGRATIONS.map((m) => m.version));
  const owner = await db.collection('members').findOne({ _id: 'a'.repeat(32) as never });
  t.match(owner, { email: 'old.owner@example.com', tokenHash: null, tokenExpiresAt: null, invitedBy: null });
  const items = await db.collection('items').find({}).toArray();
  t.ok(items.every((i) => i.description === '' && i.assigneeId === null && i.updatedAt instanceof Date), 'every item has the new fields with defaults');
  t.ok(items.every((i) => i.title && i.status && i.createdBy), 'and keeps every old field (the old version still reads them)');

  const ordered = await db.collection('items').find({ status: 'todo' }).sort({ order: 1 }).toArray();
  t.same(ordered.map((i) => i.title), ['first todo', 'second todo'], 'order backfilled per column by creation time');

  const before = await snapshot(db);
  await startAndStop('older');
  t.same(await snapshot(db), before, 'a further start changes nothing');

  const app = await startApp(stackEnv(services, 'older', 'bucket-older'));
  try {
    const session = await signIn(app.url, 'OLD.owner@example.com', 'old owner password');
    const list = (await (await session.fetch('/api/items?status=todo')).json()) as { items: { title: string }[] };
    t.same(list.items.map((i) => i.title), ['first todo', 'second todo'], 'the migrated owner signs in and sees the old board in order');
  } finally {
    await app.stop();
  }
});
