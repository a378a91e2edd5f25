// Healing in seconds (issue 13 item 4): `docker kill` of each service of a
// team → seconds until the team answers 200 again through nginx. Production
// settings: a real orchestrator process (server.ts) with its loops on at the
// production intervals of scripts/defaults.env (health probe, reconcile,
// stats, the crash watcher, Docker's on-failure policy), on a platform of its
// own (startTestPlatform: platform DB container, private nginx, own platform
// id). Yardstick in the same run: the raw engine's floor, `docker kill` then
// `docker start` of the same service of a bench-owned stack (no orchestrator)
// → first 200 from its published port. Kills of one service are kept at least
// window/bound apart so that isolated crashes, never a crash loop, are
// measured. Prints the settings, every sample, p50/p95 and every retry; asserts
// nothing; removes everything it made, also on failure.
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, ROOT_DIR } from '../orchestrator/src/config/config.js';
import { names } from '../orchestrator/src/names.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { httpGet } from '../orchestrator/src/runtime/http-get.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';
import { stackImages } from '../orchestrator/src/stacks/images.js';
import { renderStack } from '../orchestrator/src/stacks/render.js';
import { generateSecrets } from '../orchestrator/src/stacks/secrets.js';
import { downStack, upStack } from '../orchestrator/src/stacks/stack-runner.js';
import { loadTemplate } from '../orchestrator/src/stacks/template-loader.js';
import { freePort } from '../orchestrator/test/helpers/nginx.js';
import { startOrchestrator } from '../orchestrator/test/helpers/orchestrator-process.js';
import { platformEnv, startTestPlatform, storedTenant } from '../orchestrator/test/helpers/platform.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SERVICES = ['app', 'db', 'storage'] as const;
/** The bench's own polling of the team (the measurement, not the platform's). */
const POLL_MS = 50;
/** A sample that does not answer within this counts as failed, and is printed. */
const GIVE_UP_MS = 120_000;
/** After each recovery: the team settles (its heal operation ends) before the next kill. */
const SETTLE_MS = 1000;

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args, { timeout: 60_000 })).stdout.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

const production = loadConfig();
const tp = await startTestPlatform('healbench');
const apiPort = await freePort();
const children: ChildProcess[] = [];
const yardstick = { runtime: new DockerRuntime(silentLogger, production.dockerSocket), slug: `hy-${randomBytes(3).toString('hex')}`, platform: `bench-heal-${randomBytes(3).toString('hex')}` };
let failures = 0;
let retries = 0;

// Interrupted (Ctrl-C): everything made is removed all the same.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function cleanup(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await downStack(yardstick.runtime, yardstick.slug, { deleteData: true, platform: yardstick.platform }).catch((err: Error) => console.error(`yardstick stack not removed: ${err.message}`));
  await tp.close();
}

/** Polls until `get` answers 200; counts every other answer as a retry. */
async function firstOk(get: () => Promise<number>, since: number): Promise<number | undefined> {
  for (;;) {
    const status = await get().catch(() => 0);
    if (status === 200) return (performance.now() - since) / 1000;
    retries += 1;
    if (performance.now() - since > GIVE_UP_MS) return undefined;
    await sleep(POLL_MS);
  }
}

try {
  const env = platformEnv(tp.config, { BERTH_API_PORT: String(apiPort) });
  await startOrchestrator(env, apiPort, children);
  const api = (method: string, url: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${apiPort}/api/v1${url}`, { method, headers: { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const slug = `hb-${randomBytes(3).toString('hex')}`;
  const created = await api('POST', '/tenants', { slug });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const throughNginx = async () => (await httpGet(`http://127.0.0.1:${tp.config.nginx.httpPort}/healthz`, 5000, { host: `${slug}.${tp.config.baseDomain}` })).status;
  const steady = async () => {
    const doc = await storedTenant(tp, slug);
    return doc?.phase === 'running' && !doc.operation && (await throughNginx().catch(() => 0)) === 200;
  };
  const waitSteady = async (what: string) => {
    const deadline = Date.now() + GIVE_UP_MS;
    while (!(await steady())) {
      if (Date.now() > deadline) {
        const doc = await storedTenant(tp, slug);
        throw new Error(`${what}: the team is not steady (${doc?.phase}, ${doc?.operation?.kind ?? 'no operation'}, ${doc?.lastError?.code ?? ''} ${doc?.lastError?.message ?? ''})`);
      }
      await sleep(200);
    }
  };
  await waitSteady('create');

  // The yardstick's stack: the same template, images and limits, owned by the bench.
  const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
  // A fixed port, as a team's: with 0 the engine would pick another one at every start.
  const spec = renderStack(loaded, { slug: yardstick.slug, appVersion: production.defaultAppVersion, images: stackImages(production, production.defaultAppVersion), secrets: generateSecrets(loaded), platform: yardstick.platform, publishPort: await freePort() });
  const { publishedPort } = await upStack(yardstick.runtime, spec);
  const direct = async () => (await httpGet(`http://127.0.0.1:${publishedPort}/healthz`, 5000)).status;

  const c = production.healing;
  const spacingMs = Math.ceil(c.crashLoopWindowMs / c.crashLoopRestarts) + 1000;
  console.log('settings (scripts/defaults.env, as the orchestrator process ran with them):');
  console.log(`  BERTH_RESTART_RETRIES=${c.restartRetries} BERTH_CRASH_LOOP_RESTARTS=${c.crashLoopRestarts} BERTH_CRASH_LOOP_WINDOW_MS=${c.crashLoopWindowMs}`);
  console.log(`  BERTH_HEALTH_INTERVAL_MS=${production.health.intervalMs} BERTH_HEALTH_FAILURES=${production.health.failuresBeforeDegraded} BERTH_RECONCILE_INTERVAL_MS=${production.reconcileIntervalMs} BERTH_STATS_INTERVAL_MS=${production.stats.intervalMs}`);
  console.log(`  app version ${production.defaultAppVersion}; plan starter (0.5 CPU each); runs per service ${RUNS}; kills of one service ≥ ${spacingMs} ms apart; bench polls every ${POLL_MS} ms; host ${os.cpus().length} CPUs, load average ${load()}`);

  const healed: Record<string, number[]> = {};
  const floor: Record<string, number[]> = {};
  const lastKill = new Map<string, number>();
  for (let i = 0; i < RUNS; i++) {
    for (const service of SERVICES) {
      const wait = (lastKill.get(service) ?? 0) + spacingMs - Date.now();
      if (wait > 0) await sleep(wait);
      await waitSteady(`before run ${i + 1} of ${service}`);
      await sleep(SETTLE_MS);
      lastKill.set(service, Date.now());
      let t0 = performance.now();
      await docker('kill', names.container(slug, service));
      const seconds = await firstOk(throughNginx, t0);
      if (seconds === undefined) failures += 1;
      else (healed[service] ??= []).push(seconds);

      // The floor: the raw engine starting the same service again, at once.
      t0 = performance.now();
      const container = names.container(yardstick.slug, service);
      await docker('kill', container);
      await docker('start', container);
      const raw = await firstOk(direct, t0);
      if (raw === undefined) failures += 1;
      else (floor[service] ??= []).push(raw);
      console.log(`run ${i + 1} ${service}: healed through nginx ${seconds?.toFixed(2) ?? 'FAILED'} s; raw docker start ${raw?.toFixed(2) ?? 'FAILED'} s (load ${load()})`);
    }
  }
  const fmt = (xs: number[] = []) => (xs.length ? `p50 ${pct(xs, 50).toFixed(2)} s  p95 ${pct(xs, 95).toFixed(2)} s  (n=${xs.length}: ${xs.map((x) => x.toFixed(2)).join(' ')})` : 'no samples');
  console.log('\ndocker kill → first 200 through nginx (Berth, production settings):');
  for (const service of SERVICES) console.log(`  ${service.padEnd(8)} ${fmt(healed[service])}`);
  const all = Object.values(healed).flat();
  console.log(`  all      ${fmt(all)}   target p50 ≤ 5 s: ${all.length && pct(all, 50) <= 5 ? 'met' : 'NOT met'}`);
  console.log('yardstick, raw engine: docker kill + docker start → first 200 from the published port (no orchestrator):');
  for (const service of SERVICES) console.log(`  ${service.padEnd(8)} ${fmt(floor[service])}`);
  const doc = await storedTenant(tp, slug);
  const history = await tp.platform.events.history({ tenant: slug }, 5000);
  const heals = history.filter((e) => e.type === 'operation.succeeded' && e.data?.kind === 'heal').length;
  const failedHeals = history.filter((e) => e.type === 'operation.failed' && e.data?.kind === 'heal').length;
  console.log(`\nheal operations: ${heals} succeeded, ${failedHeals} failed; probe-backstop degradations: ${history.filter((e) => e.type === 'tenant.phase' && e.data?.to === 'degraded').length}`);
  console.log(`bench retries (non-200 answers while polling): ${retries}; failed samples (no 200 within ${GIVE_UP_MS / 1000} s): ${failures}; skipped: 0`);
  console.log(`team at the end: ${doc?.phase} ${doc?.lastError?.code ?? ''}; load average ${load()}`);
} finally {
  await cleanup();
}
