// The deadline wrappers on their own, over a stub runtime (pure timing logic;
// the real-engine case is tenants/deadlines.test.ts): a call with no answer
// fails naming itself, an operation past its deadline fails naming its step
// and call, and work cut short makes no further call.
import t from 'tap';
import { BerthError } from '../../src/errors.js';
import { assertNotAborted, runWithDeadline, withDeadlines, type OperationWatch } from '../../src/runtime/deadlines.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';

const calls: string[] = [];
const never = new Promise<never>(() => {});
const stub = {
  async ping() {},
  startContainer: (name: string) => (calls.push(`start ${name}`), never),
  stopContainer: async (name: string) => void calls.push(`stop ${name}`),
  exec: (name: string) => (calls.push(`exec ${name}`), never)
} as unknown as ContainerRuntime;

t.test('a call with no answer fails with RUNTIME_TIMEOUT naming the call', async (t) => {
  const runtime = withDeadlines(stub, 50);
  await t.resolves(runtime.ping(), 'answered calls pass through');
  const err = await runtime.startContainer('berth.acme.app').catch((e: unknown) => e);
  t.ok(err instanceof BerthError);
  t.match(err, { code: 'RUNTIME_TIMEOUT', details: { call: 'startContainer berth.acme.app' } });
  // An exec's own timeout comes on top of the call deadline.
  const began = Date.now();
  await t.rejects(runtime.exec('berth.acme.db', ['true'], 100), { code: 'RUNTIME_TIMEOUT' });
  t.ok(Date.now() - began >= 140, 'exec waits its own timeout plus the call deadline');
});

t.test('an operation past its deadline fails at its step, naming the call, and its work stops', async (t) => {
  calls.length = 0;
  const runtime = withDeadlines(stub, 400);
  const watch: OperationWatch = { step: 'queued' };
  const work = async () => {
    watch.step = 'app:starting';
    await runtime.startContainer('berth.acme.app');
    // Never reached while the start hangs; a later call would be refused.
    await runtime.stopContainer('berth.acme.db');
  };
  const err = await runWithDeadline(watch, 80, 20, work).catch((e: unknown) => e);
  t.match(err, { code: 'OPERATION_TIMEOUT', details: { step: 'app:starting', call: 'startContainer berth.acme.app' } });
  t.match((err as Error).message, /at step "app:starting", waiting on startContainer berth\.acme\.app/);
  t.ok(watch.aborted, 'the watch is aborted');
  // The abandoned work, were its call to come back, may not call again.
  const late = await runWithDeadline({ step: 's', aborted: watch.aborted }, 1000, 10, async () => {
    assertNotAborted();
    await runtime.stopContainer('berth.acme.db');
  }).catch((e: unknown) => e);
  t.equal(late, watch.aborted);
  t.same(calls, ['start berth.acme.app'], 'nothing ran after the deadline');
});

t.test('work that ends in time returns its value', async (t) => {
  t.equal(await runWithDeadline({ step: 'x' }, 1000, 10, async () => 'running'), 'running');
});
