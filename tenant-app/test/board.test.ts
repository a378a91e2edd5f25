// The backlog board through its JSON API against real FerretDB: create, edit,
// move, filter, delete, who may delete, and live updates over SSE.
import t from 'tap';
import { MongoClient } from 'mongodb';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { seedMember, signIn, type MemberSession } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

interface Item { id: string; title: string; description: string; status: string; assigneeId: string | null; order: number }

let services: Services;
let app: RunningApp;
let ana: MemberSession; // owner
let ben: MemberSession;
let cy: MemberSession;

t.before(async () => {
  services = await startServices('board');
  const env = stackEnv(services, 'team');
  await seedMember(env.MONGO_URL, 'ana@example.com', 'ana password 1', 'owner');
  await seedMember(env.MONGO_URL, 'ben@example.com', 'ben password 1');
  await seedMember(env.MONGO_URL, 'cy@example.com', 'cy password 12');
  app = await startApp(env);
  [ana, ben, cy] = await Promise.all([
    signIn(app.url, 'ana@example.com', 'ana password 1'),
    signIn(app.url, 'ben@example.com', 'ben password 1'),
    signIn(app.url, 'cy@example.com', 'cy password 12')
  ]);
});

t.teardown(async () => {
  await app?.stop();
  await services?.stop();
});

async function create(who: MemberSession, body: Record<string, unknown>): Promise<Item> {
  const res = await who.json('POST', '/api/items', body);
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { item: Item }).item;
}
async function list(who: MemberSession, query = ''): Promise<Item[]> {
  return ((await (await who.fetch(`/api/items${query}`)).json()) as { items: Item[] }).items;
}
const titles = (items: Item[], status: string) => items.filter((i) => i.status === status).map((i) => i.title);

t.test('nothing without a session', async (t) => {
  t.equal((await fetch(`${app.url}/api/items`)).status, 401);
  t.equal((await fetch(`${app.url}/api/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' })).status, 401);
});

t.test('the first writes come at once (the board has no version yet): every one is made, none answers 500', async (t) => {
  const who = [ana, ben, cy];
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => who[i % 3]!.json('POST', '/api/items', { title: `first rush ${i}` })));
  t.same(answers.map((r) => r.status), Array(12).fill(201), 'all made');
  const made = await Promise.all(answers.map(async (r) => ((await r.json()) as { item?: Item }).item));
  const mongo = new MongoClient(services.mongoUrl('team'));
  t.teardown(() => mongo.close());
  const version = async () => (await mongo.db().collection<{ _id: string; version?: number }>('meta').findOne({ _id: 'board' }))?.version;
  t.equal(await version(), 12, 'the board\'s version counted every write: none lost to another at the same moment');
  await Promise.all(made.map((item, i) => (item ? who[i % 3]!.fetch(`/api/items/${item.id}`, { method: 'DELETE' }).then((r) => t.equal(r.status, 204, `removed again: ${item.title}`)) : undefined)));
  t.equal(await version(), 24, 'and every removal, made at once too');
});

t.test('create, read, edit with validation explained per field', async (t) => {
  const bad = await ana.json('POST', '/api/items', { title: '', status: 'later' });
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { code: 'VALIDATION', fields: { title: /title/, status: /todo, doing, done/ } } });

  const item = await create(ana, { title: 'Write the spec', description: 'first draft', assigneeId: ben.memberId });
  t.match(item, { title: 'Write the spec', description: 'first draft', status: 'todo', assigneeId: ben.memberId });
  t.match(((await (await ben.fetch(`/api/items/${item.id}`)).json()) as { item: Item }).item, { title: 'Write the spec' }, 'another member reads it');

  const edited = await ben.json('PATCH', `/api/items/${item.id}`, { title: 'Write the spec v2', assigneeId: null });
  t.equal(edited.status, 200);
  t.match(((await edited.json()) as { item: Item }).item, { title: 'Write the spec v2', assigneeId: null, description: 'first draft' });
  const stranger = await ana.json('PATCH', `/api/items/${item.id}`, { assigneeId: 'f'.repeat(32) });
  t.equal(stranger.status, 400, 'only a member of the team can be assigned');
  t.equal((await ana.json('PATCH', `/api/items/${'0'.repeat(32)}`, { title: 'x' })).status, 404);
});

t.test('create through the board form action, with errors next to the field', async (t) => {
  const form = (title: string) =>
    fetch(`${app.url}/board?/create`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: app.url, cookie: ana.cookie },
      body: new URLSearchParams({ title, status: 'doing', assigneeId: '' }).toString()
    });
  const bad = await form('   ');
  t.equal(bad.status, 400);
  t.match(await bad.text(), 'give the item a title of 1 to 200 characters');
  t.equal((await form('From the form')).status, 200);
  t.same(titles(await list(ana), 'doing'), ['From the form']);
});

t.test('move between columns and within a column keeps an order', async (t) => {
  const a = await create(ana, { title: 'A', status: 'done' });
  const b = await create(ana, { title: 'B', status: 'done' });
  const c = await create(ana, { title: 'C', status: 'done' });
  t.same(titles(await list(ana), 'done'), ['A', 'B', 'C']);
  await ana.json('PATCH', `/api/items/${c.id}`, { status: 'done', index: 0 });
  t.same(titles(await list(ana), 'done'), ['C', 'A', 'B'], 'C moved to the top');
  await ana.json('PATCH', `/api/items/${a.id}`, { status: 'done', index: 2 });
  t.same(titles(await list(ana), 'done'), ['C', 'B', 'A'], 'A moved to the bottom');
  const moved = await ben.json('PATCH', `/api/items/${b.id}`, { status: 'doing', index: 0 });
  t.equal(moved.status, 200);
  t.same(titles(await list(ana), 'doing'), ['B', 'From the form'], 'B moved to the top of another column');
  t.same(titles(await list(ana), 'done'), ['C', 'A']);
  t.equal((await ana.json('PATCH', `/api/items/${b.id}`, { status: 'nowhere', index: 0 })).status, 400);
});

t.test('filter by column, assignee and words', async (t) => {
  await create(ben, { title: 'Fix login bug', description: 'Safari only', assigneeId: cy.memberId });
  t.same((await list(ana, '?status=done')).map((i) => i.title), ['C', 'A']);
  t.same((await list(ana, `?assignee=${cy.memberId}`)).map((i) => i.title), ['Fix login bug']);
  t.same((await list(ana, '?q=safari')).map((i) => i.title), ['Fix login bug'], 'case-insensitive, in the description too');
  t.same((await list(ana, '?q=.*')).map((i) => i.title), [], 'words are not patterns');
  const unassigned = (await list(ana)).filter((i) => i.assigneeId === null).map((i) => i.title).sort();
  t.ok(unassigned.length > 0, 'the board has unassigned items to find');
  t.same((await list(ana, '?assignee=none')).map((i) => i.title).sort(), unassigned, 'exactly the unassigned items');
  t.equal((await ana.fetch('/api/items?status=later')).status, 400);
});

t.test('delete: only the creator or the owner', async (t) => {
  const bens = await create(ben, { title: 'Ben’s item' });
  const byCy = await cy.fetch(`/api/items/${bens.id}`, { method: 'DELETE' });
  t.equal(byCy.status, 403, 'another member may not delete it');
  t.equal((await ben.fetch(`/api/items/${bens.id}`, { method: 'DELETE' })).status, 204, 'its creator may');
  const cys = await create(cy, { title: 'Cy’s item' });
  t.equal((await ana.fetch(`/api/items/${cys.id}`, { method: 'DELETE' })).status, 204, 'the owner may');
  t.equal((await ana.fetch(`/api/items/${cys.id}`)).status, 404);
});

/** Reads server-sent events until `count` of them arrived. */
async function collectEvents(who: MemberSession, count: number, during: () => Promise<void>): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const controller = new AbortController();
  const res = await who.fetch('/api/events', { signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let buffer = '';
  const reading = (async () => {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = block.match(/^event: (.*)$/m)?.[1];
        const data = block.match(/^data: (.*)$/m)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })();
  await during();
  const timeout = setTimeout(() => controller.abort(), 5000);
  await reading.catch(() => {});
  clearTimeout(timeout);
  controller.abort();
  return events;
}

t.test('a change by one member reaches the others without reload (SSE)', async (t) => {
  t.equal((await fetch(`${app.url}/api/events`)).status, 401, 'the stream needs a session');
  let itemId = '';
  const events = await collectEvents(cy, 3, async () => {
    const item = await create(ana, { title: 'Live one' });
    itemId = item.id;
    await ben.json('PATCH', `/api/items/${item.id}`, { status: 'doing', index: 0 });
    await ana.fetch(`/api/items/${item.id}`, { method: 'DELETE' });
  });
  t.same(events.map((e) => e.event), ['item.created', 'item.updated', 'item.deleted']);
  t.match(events[0]?.data, { item: { id: itemId, title: 'Live one' }, by: ana.memberId });
  t.match(events[1]?.data, { item: { status: 'doing' }, by: ben.memberId });
  t.match(events[2]?.data, { itemId });
});

t.test('the whole board carries a strong ETag: 304 while unchanged, a new one after any write', async (t) => {
  const first = await ana.fetch('/api/items');
  t.equal(first.status, 200);
  const etag = first.headers.get('etag')!;
  t.match(etag, /^"[^"]+"$/, 'a strong validator');
  t.equal(first.headers.get('cache-control'), 'private, no-cache');
  const body = await first.text();
  t.equal(Number(first.headers.get('content-length')), Buffer.byteLength(body));

  const same = await ben.fetch('/api/items', { headers: { 'if-none-match': etag } });
  t.equal(same.status, 304, 'unchanged: not sent again');
  t.equal(same.headers.get('etag'), etag);
  t.equal(await same.text(), '');
  t.equal((await ben.fetch('/api/items', { headers: { 'if-none-match': '"other", ' + etag } })).status, 304, 'a list of tags');
  t.equal((await fetch(`${app.url}/api/items`, { headers: { 'if-none-match': etag } })).status, 401, 'the ETag is no key: a session is still needed');

  const item = await create(ben, { title: 'Changes the board' });
  const after = await ana.fetch('/api/items', { headers: { 'if-none-match': etag } });
  t.equal(after.status, 200, 'changed: sent in full, at once (the writer and every member of this instance read the write)');
  t.not(after.headers.get('etag'), etag);
  t.ok(((await after.json()) as { items: Item[] }).items.some((i) => i.id === item.id));
});

t.test('a write through another instance shows within the stamp bound', async (t) => {
  // What an old and a new instance side by side do: write the item, bump the stamp.
  const mongo = new MongoClient(services.mongoUrl('team'));
  try {
    await list(ana); // the board is cached here
    const now = new Date();
    const id = 'e'.repeat(32);
    await mongo.db().collection<{ _id: string; [field: string]: unknown }>('items').insertOne({ _id: id, title: 'From elsewhere', description: '', status: 'todo', assigneeId: null, order: 1e6, createdBy: ana.memberId, createdAt: now, updatedAt: now });
    await mongo.db().collection<{ _id: string; version: number }>('meta').updateOne({ _id: 'board' }, { $inc: { version: 1 } }, { upsert: true });
    const written = Date.now();
    let seen = false;
    while (!seen && Date.now() - written < 3000) {
      seen = (await list(ben)).some((i) => i.id === id);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.ok(seen, `seen after ${Date.now() - written} ms`);
    t.ok(Date.now() - written <= 1000 + 300, 'within STAMP_TTL_MS (1 s, board.cache.ts)');
  } finally {
    await mongo.close();
  }
});
