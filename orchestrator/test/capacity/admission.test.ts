// Admission's arithmetic, on host readings the test gives (memory and disk
// injected: a real shortage cannot be made on demand here; the platform test
// admission-platform.test.ts refuses real work on this host by its reserve),
// and the room of the real template's plans.
import path from 'node:path';
import t from 'tap';
import { Admission, fitCount, planNeed, type Need, type Refusal, type Room } from '../../src/capacity/admission.js';
import { diskFreeOf, parseMemAvailable } from '../../src/capacity/host.js';
import { BerthError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';
import { ROOT_DIR } from '../../src/config/config.js';

const GB = 1024 ** 3;
const MB = 1024 ** 2;

function admission(host: { memory?: number | null | Error; disk?: number | null }, reserve = { memoryReserveBytes: 1 * GB, diskReserveBytes: 1 * GB }) {
  const refused: [Need, Refusal][] = [];
  const reads = { memory: 0, disk: 0 };
  const a = new Admission({
    memory: async () => {
      reads.memory++;
      if (host.memory instanceof Error) throw host.memory;
      return host.memory ?? null;
    },
    disk: async () => {
      reads.disk++;
      return host.disk ?? null;
    },
    reserve: () => reserve,
    refused: (need, refusal) => refused.push([need, refusal]),
    log: silentLogger
  });
  return { a, refused, reads, reserve };
}

const need = (over: Partial<Need> = {}): Need => ({ work: 'create', tenant: 'acme', plan: 'starter', memoryBytes: 1 * GB, diskBytes: 0, ...over });

t.test('room enough: admitted, and the room is held until released (once, however often release is called)', async (t) => {
  const { a, refused } = admission({ memory: 5 * GB });
  const release = await a.admit(need());
  t.same(a.holding(), { memoryBytes: GB, diskBytes: 0, count: 1 });
  release();
  release();
  t.same(a.holding(), { memoryBytes: 0, diskBytes: 0, count: 0 });
  t.same(refused, []);
});

t.test('no room: CAPACITY (503) naming the plan, the work, the figures and what to do; told to operators; nothing held', async (t) => {
  const { a, refused } = admission({ memory: 1.5 * GB });
  const err = await a.admit(need()).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof BerthError, 'a typed error');
  const e = err as BerthError;
  t.equal(e.code, 'CAPACITY');
  t.equal(e.status, 503);
  t.equal(e.message, 'this host has no room for another starter team (create of acme): 1.5 GB memory free, the team may take 1.0 GB, and 1.0 GB is kept in reserve; try again later, or free memory (put idle teams to sleep, stop teams)');
  t.match(e.details, { resource: 'memory', availableBytes: 1.5 * GB, needBytes: GB, reserveBytes: GB, heldBytes: 0, work: 'create', plan: 'starter' });
  t.equal(refused.length, 1);
  t.equal(refused[0]![1].resource, 'memory');
  t.equal(a.holding().count, 0);
});

t.test('operators are told once a minute per team and kind of work, not once per knock', async (t) => {
  const { a, refused } = admission({ memory: GB });
  for (let i = 0; i < 50; i++) await t.rejects(a.admit(need({ work: 'wake' })), { code: 'CAPACITY' }, 'every knock is refused');
  await t.rejects(a.admit(need({ work: 'create' })), { code: 'CAPACITY' });
  await t.rejects(a.admit(need({ work: 'wake', tenant: 'other' })), { code: 'CAPACITY' });
  t.same(refused.map(([n]) => `${n.work} ${n.tenant}`), ['wake acme', 'create acme', 'wake other']);
  for (let i = 0; i < 1100; i++) await a.admit(need({ work: 'wake', tenant: `t${i}` })).catch(() => {});
  t.equal(refused.length, 1103, 'a thousand and more teams: each told');
});

t.test('exactly the reserve left is still room; a byte less is not', async (t) => {
  t.ok(await admission({ memory: 2 * GB }).a.admit(need()), 'free - need = reserve: admitted');
  await t.rejects(admission({ memory: 2 * GB - 1 }).a.admit(need()), { code: 'CAPACITY' });
});

t.test('starts under way count: two at once do not both spend the same free memory', async (t) => {
  const { a } = admission({ memory: 3.5 * GB });
  const first = await a.admit(need({ tenant: 'one' }));
  const second = await a.admit(need({ tenant: 'two' }));
  const third = await a.admit(need({ tenant: 'three' })).then(() => undefined, (e: BerthError) => e);
  t.equal(third?.code, 'CAPACITY', 'the third would eat into the reserve');
  t.match(third?.message, /3\.5 GB memory free, 2\.0 GB held by starts under way, the team may take 1\.0 GB/);
  first();
  t.ok(await a.admit(need({ tenant: 'three' })), 'a start that ended lets the next one in');
  second();
});

t.test('disk: a create needs its storage quota on disk; a wake or an upgrade needs none', async (t) => {
  const { a, reads } = admission({ memory: 100 * GB, disk: 1.5 * GB });
  const err = await a.admit(need({ diskBytes: GB })).then(() => undefined, (e: BerthError) => e);
  t.equal(err?.code, 'CAPACITY');
  t.match(err?.message, /1\.5 GB disk free, the team may take 1\.0 GB, and 1\.0 GB is kept in reserve; try again later, or free disk space/);
  t.match(err?.details, { resource: 'disk' });
  const before = reads.disk;
  t.ok(await a.admit(need({ work: 'wake', diskBytes: 0 })), 'a wake is not checked for disk');
  t.equal(reads.disk, before, 'and the disk is not even read');
});

t.test('an upgrade names the second app in its message', async (t) => {
  const err = await admission({ memory: GB }).a.admit(need({ work: 'upgrade', memoryBytes: 256 * MB })).then(() => undefined, (e: BerthError) => e);
  t.match(err?.message, /^this host has no room for a second starter app \(for the upgrade of acme\): 1\.0 GB memory free, the team may take 256 MB/);
});

t.test('a reserve of 0 turns its check off: the host is not read', async (t) => {
  const { a, reads } = admission({ memory: 0, disk: 0 }, { memoryReserveBytes: 0, diskReserveBytes: 0 });
  t.ok(await a.admit(need({ diskBytes: GB })));
  t.same(reads, { memory: 0, disk: 0 });
});

t.test('a host that does not say (no /proc/meminfo, a read that fails) admits rather than blocking every team', async (t) => {
  t.ok(await admission({ memory: null }).a.admit(need()), 'null reading');
  t.ok(await admission({ memory: new Error('EACCES') }).a.admit(need()), 'failed reading');
});

t.test('the reserve is read at every ask: an operator\'s change holds at once', async (t) => {
  const { a, reserve } = admission({ memory: 3 * GB });
  t.ok(await a.admit(need({ tenant: 'x' })));
  reserve.memoryReserveBytes = 10 * GB;
  await t.rejects(a.admit(need({ tenant: 'y' })), { code: 'CAPACITY' });
});

t.test('the room of the real template\'s plans: every service\'s memory limit, the storage quota on disk', async (t) => {
  const template = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
  t.same(planNeed(template, 'starter'), { memoryBytes: (256 + 256 + 512) * MB, diskBytes: GB });
  t.same(planNeed(template, 'team'), { memoryBytes: (512 + 512 + 1024) * MB, diskBytes: 10 * GB });
  t.same(planNeed(template, 'starter', ['app']).memoryBytes, 256 * MB, 'one service: an upgrade\'s second app');
  t.same(planNeed(template, 'no-such-plan'), { memoryBytes: 0, diskBytes: 0 });
});

t.test('how many more fit: admit()\'s rule applied one after another, the tighter resource deciding', async (t) => {
  const room = (over: Partial<Room> = {}): Room => ({ memoryBytes: 10 * GB, diskBytes: 100 * GB, held: { memoryBytes: 0, diskBytes: 0, count: 0 }, reserve: { memoryReserveBytes: 2 * GB, diskReserveBytes: 2 * GB }, ...over });
  t.equal(fitCount(room(), { memoryBytes: GB, diskBytes: GB }), 8, '(10 - 2) / 1 by memory; disk allows 98');
  t.equal(fitCount(room({ diskBytes: 5 * GB }), { memoryBytes: GB, diskBytes: GB }), 3, 'disk is tighter: (5 - 2) / 1');
  t.equal(fitCount(room({ held: { memoryBytes: 3 * GB, diskBytes: 0, count: 3 } }), { memoryBytes: GB, diskBytes: 0 }), 5, 'starts under way count');
  t.equal(fitCount(room({ memoryBytes: GB }), { memoryBytes: GB, diskBytes: 0 }), 0, 'below the reserve: none, never negative');
  t.equal(fitCount(room({ reserve: { memoryReserveBytes: 0, diskReserveBytes: 0 } }), { memoryBytes: GB, diskBytes: 0 }), 10, 'reserve 0: what physically fits');
  t.equal(fitCount(room({ memoryBytes: null }), { memoryBytes: GB, diskBytes: 0 }), null, 'a host that does not say: unknown');
  t.equal(fitCount(room({ diskBytes: null }), { memoryBytes: GB, diskBytes: 0 }), 8, 'a disk that cannot be read does not matter to work that needs none');
  // The count agrees with admit(): exactly that many are admitted, the next is refused.
  const { a } = admission({ memory: 10 * GB }, { memoryReserveBytes: 2 * GB, diskReserveBytes: 0 });
  const fits = fitCount(await a.room(), { memoryBytes: GB, diskBytes: 0 })!;
  for (let i = 0; i < fits; i++) await a.admit(need({ tenant: `n${i}` }));
  await t.rejects(a.admit(need({ tenant: 'one-more' })), { code: 'CAPACITY' }, `${fits} admitted, the next refused`);
});

t.test('host readings: MemAvailable parsed, a hostile or odd /proc/meminfo refused; disk from statfs', async (t) => {
  t.equal(parseMemAvailable('MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n'), 20000000 * 1024);
  t.equal(parseMemAvailable('MemAvailable: 1x kB\n'), null);
  t.equal(parseMemAvailable(`MemAvailable: ${'9'.repeat(100)} kB\n`), null, 'a number too long for a byte count');
  t.equal(parseMemAvailable('x'.repeat(1024 * 1024) + '\nMemAvailable: 5 kB\n'), null, 'only the start of a huge text is read');
  const free = await diskFreeOf('/')();
  t.ok(typeof free === 'number' && free > 0, 'the root filesystem has free space');
  t.equal(await diskFreeOf('/no/such/path/berth')(), null, 'a path that does not exist: no reading');
});
