// The set-up of a test that SIGKILLs the orchestrator: an in-process test
// platform (it makes the teams; its loops never start), a second app version
// to upgrade to, and orchestrator processes started on an API port of their
// own against the same database, nginx and home. The registry is read from
// the database (another process writes it), and every process, the platform
// and the version go at the test's end.
import type { ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';
import { removeVersions, tagVersion, testVersion } from './app-versions.js';
import { freePort } from './nginx.js';
import { kill, startOrchestrator } from './orchestrator-process.js';
import { platformEnv, startTestPlatform, storedTenant, type TestPlatform } from './platform.js';
import { until } from './wait.js';

export interface CrashHarness {
  tp: TestPlatform;
  /** The version upgrades go to (tagged for this test). */
  v2: string;
  /** The registry as the database holds it. */
  repo: { get(slug: string): Promise<TenantDoc | null> };
  /** Starts an orchestrator process (its reconciler every 60 s: the test drives the resumes). */
  start(): Promise<ChildProcess>;
  kill(proc: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
  /** The process's API, as the admin. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Polls the registry (often: a step can be short) until the team's operation of `kind` is at one of `steps`. */
  atStep(slug: string, kind: string, steps: RegExp): Promise<unknown>;
}

export async function crashHarness(t: Test, tag: string, versionTag: string): Promise<CrashHarness> {
  const tp = await startTestPlatform(tag);
  const v2 = await tagVersion(testVersion(versionTag));
  const apiPort = await freePort();
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children) await kill(child);
    await tp.close();
    await removeVersions(v2);
  });
  const repo = { get: (slug: string) => storedTenant(tp, slug) };
  const env = platformEnv(tp.config, { BERTH_API_PORT: String(apiPort), BERTH_RECONCILE_INTERVAL_MS: '60000' });
  return {
    tp,
    v2,
    repo,
    start: () => startOrchestrator(env, apiPort, children),
    kill,
    api: (path, init = {}) =>
      fetch(`http://127.0.0.1:${apiPort}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' } }),
    atStep: (slug, kind, steps) =>
      until(async () => {
        const op = (await repo.get(slug))?.operation;
        return op?.kind === kind && steps.test(op.step);
      }, 120_000, `${slug}'s ${kind} to reach ${steps}`, 20)
  };
}
