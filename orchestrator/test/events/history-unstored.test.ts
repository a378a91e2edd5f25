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
const gated = new Proxy(db, {
  get(target, prop) {
    if (prop !== 'collection') return (Reflect.get(target, prop, target) as (...a: unknown[]) => unknown).bind?.(target) ?? Reflect.get(target, prop, target);
    return (name: string) => {
      const collection = target.collection(name);
      return new Proxy(collection, {
        get(c, p) {
          const value = Reflect.get(c, p, c) as (...a: unknown[]) => Promise<unknown>;
          if (p === 'insertOne') return async (...args: unknown[]) => { await gate; return value.apply(c, args); };
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
