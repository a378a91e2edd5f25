// The sleep policy's decisions, pure logic with an injected clock and host
// memory: the registry, the activity and the sleep commands are small
// in-memory stand-ins here (the real engine and nginx are in
// sleep-wake.test.ts). Who is frozen, who is stopped, who stays awake, and
// under memory pressure the frozen teams idle longest are stopped first.
import t from 'tap';
import { SleepPolicy, type SleepPolicyDeps } from '../../src/sleep/sleep-policy.js';
import { parseMemAvailable } from '../../src/capacity/host.js';
import { sleepMs } from '../../src/stacks/plan-sleep.js';
import type { Activity } from '../../src/proxy/edge-activity.js';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';
import { silentLogger } from '../../src/log.js';

const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const min = 60_000;

function world(docs: Partial<TenantDoc>[], options: { now: number; memory?: number | null; lastRequest?: Record<string, number>; ws?: string[]; terminals?: string[]; minAvailableBytes?: number; batch?: number }) {
  const acted: string[] = [];
  const full = docs.map((d) => ({ desired: 'running', phase: 'running', createdAt: new Date(T0), plan: 'starter', ...d }) as TenantDoc);
  let now = T0;
  const deps: SleepPolicyDeps = {
    repo: { list: async () => full },
    stacks: { sleepTimes: (doc) => ({ pause: '15m', stop: '12h', pauseMs: sleepMs(doc.sleep?.pause ?? '15m') ?? null, stopMs: sleepMs(doc.sleep?.stop ?? '12h') ?? null }) },
    sleep: {
      freeze: async (slug) => (acted.push(`freeze ${slug}`), { operation: { id: 'x' }, done: Promise.resolve({ type: 'operation.succeeded' as const }) }),
      stop: async (slug, why) => (acted.push(`stop ${slug}${why?.reason === 'memory' ? ' (memory)' : ''}`), { operation: { id: 'x' }, done: Promise.resolve({ type: 'operation.succeeded' as const }) })
    },
    activity: {
      refresh: async () => undefined,
      activity: (slug): Activity => ({ lastRequestAt: options.lastRequest?.[slug] ? new Date(options.lastRequest[slug]!) : null, requests: 0, errors: 0, openWebSockets: options.ws?.includes(slug) ? 1 : 0 })
    },
    terminals: { openFor: (slug) => options.terminals?.includes(slug) ?? false },
    memory: async () => options.memory ?? null,
    log: silentLogger,
    clock: () => new Date(now),
    intervalMs: 1000,
    minAvailableBytes: options.minAvailableBytes ?? 0,
    pressureBatch: options.batch ?? 1
  };
  const policy = new SleepPolicy(deps); // watching since T0
  now = options.now;
  return { policy, acted };
}

t.test('idle for pause: frozen; idle for stop: stopped; never: stays', async (t) => {
  const { policy, acted } = world([
    { _id: 'fresh' },
    { _id: 'idle', },
    { _id: 'long', phase: 'frozen' },
    { _id: 'never', sleep: { pause: 'never', stop: 'never' } },
    { _id: 'busy', operation: { id: 'o', kind: 'start', owner: 'x', startedAt: new Date(T0), step: 'q' } },
    { _id: 'halted', phase: 'stopped', desired: 'stopped' }
  ], { now: T0 + 20 * min, lastRequest: { fresh: T0 + 19 * min } });
  const report = await policy.pass();
  t.same(report.frozen, ['idle']);
  t.same(acted, ['freeze idle'], 'the fresh one, the never one, the busy one and the operator-stopped one stay');
  const later = world([{ _id: 'long', phase: 'frozen' }, { _id: 'short', sleep: { stop: '30m' } }], { now: T0 + 13 * 60 * min });
  await later.policy.pass();
  t.same(later.acted, ['stop long', 'stop short'], 'past the stop time: stopped, frozen or not');
});

t.test('an open WebSocket or terminal keeps a team awake', async (t) => {
  const { policy, acted } = world([{ _id: 'ws' }, { _id: 'term' }, { _id: 'idle' }], { now: T0 + 20 * min, ws: ['ws'], terminals: ['term'] });
  await policy.pass();
  t.same(acted, ['freeze idle']);
});

t.test('memory pressure stops the longest-idle frozen teams first, a batch a pass', async (t) => {
  const docs: Partial<TenantDoc>[] = [
    { _id: 'recent', phase: 'frozen', activeAt: new Date(T0 + 40 * min) },
    { _id: 'oldest', phase: 'frozen', activeAt: new Date(T0 + 1 * min) },
    { _id: 'middle', phase: 'frozen', activeAt: new Date(T0 + 20 * min) },
    { _id: 'awake', activeAt: new Date(T0 + 50 * min) }
  ];
  const short = world(docs, { now: T0 + 60 * min, memory: 100 * 1024 * 1024, minAvailableBytes: 1024 * 1024 * 1024, batch: 2 });
  const report = await short.policy.pass();
  t.same(report.pressure, ['oldest', 'middle'], 'longest idle first, two (the batch)');
  t.same(short.acted, ['stop oldest (memory)', 'stop middle (memory)'], 'the awake team is not touched');
  const plenty = world(docs, { now: T0 + 60 * min, memory: 8 * 1024 ** 3, minAvailableBytes: 1024 ** 3 });
  t.same((await plenty.policy.pass()).pressure, [], 'enough memory: nobody is stopped');
  const unknown = world(docs, { now: T0 + 60 * min, memory: null, minAvailableBytes: 1024 ** 3 });
  t.same((await unknown.policy.pass()).pressure, [], 'memory unknown: nobody is stopped for it');
});

t.test('durations and /proc/meminfo', async (t) => {
  t.equal(sleepMs('15m'), 900_000);
  t.equal(sleepMs('12h'), 43_200_000);
  t.equal(sleepMs('never'), null);
  for (const bad of ['0m', '15', '15 m', '1w', '-1s', 'x'.repeat(13), 15]) t.equal(sleepMs(bad), undefined, `${String(bad).slice(0, 14)} refused`);
  t.equal(parseMemAvailable('MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:    2048 kB\n'), 2048 * 1024);
  t.equal(parseMemAvailable('MemTotal: 1 kB\n'), null);
});
