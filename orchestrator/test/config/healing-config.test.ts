// The healing settings as the orchestrator reads them: the defaults of
// scripts/defaults.env, and a value out of range refused at boot with
// CONFIG_INVALID naming the setting.
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { BerthError } from '../../src/errors.js';

const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig({ PATH: process.env.PATH, ...env });
  } catch (err) {
    if (err instanceof BerthError && err.code === 'CONFIG_INVALID') return err.message;
    throw err;
  }
  return 'accepted';
};

t.test('defaults: Docker retries 3 times, more than 5 deaths within a minute is a crash loop', async (t) => {
  t.same(loadConfig({ PATH: process.env.PATH }).healing, { restartRetries: 3, crashLoopRestarts: 5, crashLoopWindowMs: 60_000 });
  t.equal(loadConfig({ BERTH_RESTART_RETRIES: '0' }).healing.restartRetries, 0, '0: Docker never restarts');
});

t.test('out of range or not a number: refused, naming the setting', async (t) => {
  t.match(refusal({ BERTH_RESTART_RETRIES: '-1' }), /BERTH_RESTART_RETRIES must be an integer from 0 to 100/);
  t.match(refusal({ BERTH_RESTART_RETRIES: 'always' }), /BERTH_RESTART_RETRIES/);
  t.match(refusal({ BERTH_CRASH_LOOP_RESTARTS: '0' }), /BERTH_CRASH_LOOP_RESTARTS must be an integer from 1/);
  t.match(refusal({ BERTH_CRASH_LOOP_WINDOW_MS: '10' }), /BERTH_CRASH_LOOP_WINDOW_MS must be an integer from 1000/);
});
