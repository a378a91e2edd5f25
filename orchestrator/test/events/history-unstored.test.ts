// An event still being stored is in the history: a waiter that subscribes a
// moment after an operation ended finds its end there. Before, such an end was
// neither live (emitted before the subscription) nor stored (its insert still
// waiting), and `berth-upgrade.test.ts` waited 240 s for a create that had
// ended in 9 s. The insert is held by a gate over the real database (the one
// fault injected here: the real insert runs once the gate opens).
import type { Db } from 'mongodb';
import t from 'tap';
import { EventBus } from '../../src/events/event-bus.js';
import { silentLogger } from '../../src/log.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { operationEnd } from '../helpers/wait.js';

const { db } = await startFerretDb('unstored');
let open = () => {};
let gate = Promise.resolve();
let inserts = 0;
const gated = new Proxy(db, {
  get(target, prop) {
    if (prop !== 'collection') return (Reflect.get(target, prop, target) as (...a: unknown[]) => unknown).bind?.(target) ?? Reflect.get(target, prop, target);
    return (name: string) => {
      const collection = target.collection(name);
      return new Proxy(collection, {
        get(c, p) {
          const value = Reflect.get(c, p, c) as (...a: unknown[]) => Promise<unknown>;
          if (p === 'insertOne' || p === 'insertMany') return async (...args: unknown[]) => { inserts++; await gate; return value.apply(c, args); };
          return typeof value === 'function' ? value.bind(c) : value;
        }
      });
    };
  }
}) as Db;
const bus = new EventBus(gated, silentLogger);
await bus.init();

t.test('an operation that ended just before its waiter subscribed is found while its end is still being stored', async (t) => {
  gate = new Promise((resolve) => (open = resolve));
  const stored = bus.publish({ type: 'operation.succeeded', operation: 'op-b', tenant: 'tb', data: { kind: 'create' } });
  const end = await operationEnd(bus, 'op-b', 5000);
  t.equal(end.type, 'operation.succeeded', 'the waiter got the end from the history');
  t.same((await bus.history({ operation: 'op-b' })).map((e) => e.type), ['operation.succeeded'], 'history shows it once while unstored');
  open();
  await stored;
  t.same((await bus.history({ operation: 'op-b' })).map((e) => e.type), ['operation.succeeded'], 'and once when stored');
});

t.test('history merges stored and unstored events in seq order, filtered, within the limit', async (t) => {
  gate = Promise.resolve();
  for (const step of ['network', 'volumes']) await bus.publish({ type: 'operation.step', operation: 'op-c', tenant: 'tc', data: { step } });
  gate = new Promise((resolve) => (open = resolve));
  const held = [
    bus.publish({ type: 'operation.step', operation: 'op-c', tenant: 'tc', data: { step: 'db:starting' } }),
    bus.publish({ type: 'operation.step', operation: 'op-other', tenant: 'tx', data: { step: 'elsewhere' } })
  ];
  const steps = (events: { data?: Record<string, unknown> }[]) => events.map((e) => e.data?.step);
  t.same(steps(await bus.history({ operation: 'op-c' })), ['network', 'volumes', 'db:starting']);
  t.same(steps(await bus.history({ tenant: 'tc' }, 2)), ['volumes', 'db:starting'], 'the newest within the limit');
  t.same(steps(await bus.history({ tenant: 'tx' })), ['elsewhere']);
  open();
  await Promise.all(held);
  t.same(steps(await bus.history({ operation: 'op-c' })), ['network', 'volumes', 'db:starting'], 'the same once stored');
});

t.test('events published while a batch is being written are stored together, in publish order, with one insert', async (t) => {
  gate = new Promise((resolve) => (open = resolve));
  inserts = 0;
  const first = bus.publish({ type: 'operation.step', operation: 'op-d', tenant: 'td', data: { step: 'first' } });
  await new Promise((r) => setTimeout(r, 20)); // the first batch is in its insert, held by the gate
  const rest = Array.from({ length: 30 }, (_, i) => bus.publish({ type: 'operation.step', operation: 'op-d', tenant: 'td', data: { step: `s${i}` } }));
  let settled = 0;
  for (const p of rest) void p.then(() => settled++);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(settled, 0, 'no publisher is told "stored" before its insert is done');
  open();
  await Promise.all([first, ...rest]);
  t.equal(inserts, 2, 'two inserts for 31 events: the one under way, then one for the 30 that waited');
  const stored = await db.collection('events').find({ operation: 'op-d' }).sort({ seq: 1 }).toArray();
  t.same(stored.map((e) => e.data.step), ['first', ...rest.map((_, i) => `s${i}`)], 'all stored, in publish order');
});

t.test('a batch that cannot be stored resolves its publishers and leaves the bus working', async (t) => {
  inserts = 0;
  gate = Promise.reject(new Error('the disk is full'));
  gate.catch(() => {});
  const lost = await bus.publish({ type: 'operation.step', operation: 'op-e', tenant: 'te', data: { step: 'lost' } });
  t.equal(lost.type, 'operation.step', 'publish resolved with its event');
  t.same(await bus.history({ operation: 'op-e' }), [], 'not in the history (and no longer pending)');
  gate = Promise.resolve();
  await bus.publish({ type: 'operation.step', operation: 'op-e', tenant: 'te', data: { step: 'kept' } });
  t.same((await bus.history({ operation: 'op-e' })).map((e) => e.data?.step), ['kept'], 'the next one is stored');
});
