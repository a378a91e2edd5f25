// Closing the platform stops its loops for good, even when a pass is under
// way at that moment: the reconciler's and the sleep policy's passes used to
// schedule the next one from the end of the pass in flight, so a platform
// closed mid-pass went on reconciling against a closed database and a gone
// nginx, and its process never exited (a test file hung until tap's timeout).
// Here each loop runs every 100 ms, its pass is held for 400 ms, and the
// platform is closed while both are held.
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { startTestPlatform } from '../helpers/platform.js';

t.test('a pass under way at close is the last one', async (t) => {
  const tp = await startTestPlatform('loopstop', { reconcileIntervalMs: 100, sleep: { ...loadConfig().sleep, intervalMs: 100 } });
  const p = tp.platform;
  const calls = { reconcile: 0, sleep: 0 };
  let inFlight = 0;
  const held = <T>(name: keyof typeof calls, pass: () => Promise<T>) => async (): Promise<T> => {
    calls[name]++;
    inFlight++;
    try {
      await new Promise((r) => setTimeout(r, 400));
      return await pass();
    } finally {
      inFlight--;
    }
  };
  try {
    await p.startLoops();
    p.reconciler.pass = held('reconcile', p.reconciler.pass.bind(p.reconciler));
    p.sleepPolicy.pass = held('sleep', p.sleepPolicy.pass.bind(p.sleepPolicy));
  } catch (err) {
    await tp.close();
    throw err;
  }
  // Both loops at work, each in a held pass.
  const deadline = Date.now() + 30_000;
  while (!(calls.reconcile > 0 && calls.sleep > 0 && inFlight === 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(inFlight, 2, 'a reconcile pass and a sleep pass are under way');
  await tp.close();
  t.equal(inFlight, 0, 'close waited for them');
  const after = { ...calls };
  await new Promise((r) => setTimeout(r, 1000)); // ten intervals
  t.same(calls, after, 'no pass started after close');
});
