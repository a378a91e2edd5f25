// Where a tenant stack's start-up time goes, service by service, with the
// start-up CPUs (BERTH_START_CPUS) a starting service gets. One stack from
// templates/tenant.yaml; each round stops one service, gives it the start-up
// CPUs and starts it, the others running:
// - app: `docker start` → first 200 from /healthz (polled every 10 ms through
//   the port published on 127.0.0.1), and the app's own log of where its time
//   went (ms since its process started: modules loaded, db ready, storage
//   ready, ready);
// - db (FerretDB) and storage (MinIO): container start (State.StartedAt) →
//   the log line saying it listens, by the engine's log timestamps.
// Prints medians of ROUNDS; asserts nothing. Target (issue 13): app process
// start → /healthz 200 ≤ 300 ms.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, ROOT_DIR } from '../orchestrator/src/config/config.js';
import { httpGet } from '../orchestrator/src/runtime/http-get.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';
import { stackImages } from '../orchestrator/src/stacks/images.js';
import { renderStack } from '../orchestrator/src/stacks/render.js';
import { generateSecrets } from '../orchestrator/src/stacks/secrets.js';
import { downStack, upStack } from '../orchestrator/src/stacks/stack-runner.js';
import { loadTemplate } from '../orchestrator/src/stacks/template-loader.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const config = loadConfig();
const runtime = new DockerRuntime(silentLogger, config.dockerSocket);
const slug = `bench-as-${randomBytes(3).toString('hex')}`;
const PLATFORM = 'app-start-bench';
const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const spec = renderStack(loaded, { slug, platform: PLATFORM, appVersion: config.defaultAppVersion, images: stackImages(config, config.defaultAppVersion), secrets: generateSecrets(loaded) });
const container = (service: string) => spec.services.find((s) => s.name === service)!.container;
const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args, { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
/** A container's log, both streams (FerretDB and MinIO write to stderr), with the engine's timestamps. */
const logsOf = async (name: string, since: string) => {
  const { stdout, stderr } = await run('docker', ['logs', '-t', '--since', since, name], { maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}\n${stderr}`;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');

/** Stops a service, gives it the start-up CPUs, starts it; t0 just before the start call. */
async function restartBoosted(service: string): Promise<number> {
  const { name } = container(service);
  await runtime.stopContainer(name, 10);
  await runtime.setCpus(name, Math.round(config.start.cpus * 1e9));
  const t0 = performance.now();
  await runtime.startContainer(name);
  return t0;
}

/** The container's log lines matching `pattern`, oldest first. */
async function matching(name: string, pattern: RegExp): Promise<string[]> {
  return (await logsOf(name, '0').catch(() => '')).split('\n').filter((l) => pattern.test(l)).sort();
}

/**
 * Restarts a service (start-up CPUs) and returns ms from its container's
 * start (State.StartedAt) to the new log line matching `listening`, by the
 * engine's clock. Found as the line past those the earlier runs logged: a
 * process can log before the engine records StartedAt (then 0).
 */
async function listeningAfterRestart(service: string, listening: RegExp): Promise<number> {
  const { name } = container(service);
  const before = (await matching(name, listening)).length;
  await restartBoosted(service);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = await matching(name, listening);
    if (lines.length > before) {
      const startedAt = Date.parse(await docker('inspect', name, '--format', '{{.State.StartedAt}}'));
      // Nanosecond timestamps: Date.parse keeps the milliseconds.
      return Math.max(0, Date.parse(lines[lines.length - 1]!.split(' ')[0]!) - startedAt);
    }
    if (Date.now() > deadline) throw new Error(`${service} logged nothing matching ${listening} within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

console.log(`settings: ${ROUNDS} rounds, start-up CPUs ${config.start.cpus} (BERTH_START_CPUS), app ${spec.services.find((s) => s.name === 'app')!.container.image}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} CPUs`);
const app = { startCall: [] as number[], processTo200: [] as number[], healthz: [] as number[], loaded: [] as number[], db: [] as number[], storage: [] as number[], ready: [] as number[] };
const listen = { db: [] as number[], storage: [] as number[] };
let retries = 0;
try {
  await upStack(runtime, spec, { startCpus: config.start.cpus, probeIntervalMs: config.start.probeIntervalMs });
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = await restartBoosted('app');
    app.startCall.push(performance.now() - t0);
    // The engine picks the host port again at each start (hostPort 0).
    const publishedPort = (await runtime.inspectContainer(container('app').name))!.published[3000]!;
    for (;;) {
      const answer = await httpGet(`http://127.0.0.1:${publishedPort}/healthz`, 2000).catch(() => ({ status: 0 }));
      if (answer.status === 200) break;
      retries++;
      await new Promise((r) => setTimeout(r, 10));
    }
    app.healthz.push(performance.now() - t0);
    // The engine's StartedAt is when the container's process was started: same host clock as Date.now().
    app.processTo200.push(Date.now() - Date.parse(await docker('inspect', container('app').name, '--format', '{{.State.StartedAt}}')));
    const ready = (await logsOf(container('app').name, '0')).split('\n').filter((l) => l.includes('"msg":"ready"')).pop();
    const ms = (JSON.parse(ready?.slice(ready.indexOf(' ') + 1) ?? '{}') as { startupMs?: { loaded: number; db: number; storage: number; ready: number } }).startupMs;
    if (ms) for (const k of ['loaded', 'db', 'storage', 'ready'] as const) app[k].push(ms[k]);
    await runtime.setCpus(container('app').name, container('app').limits.nanoCpus);

    listen.db.push(await listeningAfterRestart('db', /Listening on/i));
    listen.storage.push(await listeningAfterRestart('storage', /API: http/));
    for (const s of ['db', 'storage']) await runtime.setCpus(container(s).name, container(s).limits.nanoCpus);
  }
} finally {
  await downStack(runtime, slug, { deleteData: true, platform: PLATFORM });
}
console.log(`app: docker start → first /healthz 200: median ${median(app.healthz).toFixed(0)} ms (runs: ${fmt(app.healthz)}; ${retries} polls answered not 200)`);
console.log(`app: the docker start call itself: median ${median(app.startCall).toFixed(0)} ms (runs: ${fmt(app.startCall)}); its process start (State.StartedAt) → first 200: median ${median(app.processTo200).toFixed(0)} ms (runs: ${fmt(app.processTo200)})`);
console.log(`app, its own log (ms since its process started): modules loaded ${median(app.loaded)}, db ready ${median(app.db)}, storage ready ${median(app.storage)}, ready ${median(app.ready)} (runs of ready: ${fmt(app.ready)})`);
console.log(`db (FerretDB): container start → "Listening on": median ${median(listen.db)} ms (runs: ${fmt(listen.db)})`);
console.log(`storage (MinIO): container start → "API:": median ${median(listen.storage)} ms (runs: ${fmt(listen.storage)})`);
