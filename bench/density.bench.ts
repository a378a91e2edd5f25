// How many teams one host holds (issue 13 item 8), on a platform of its own
// (startTestPlatform: its own database, nginx, home) with production settings:
// every loop on at the intervals of scripts/defaults.env (health, reconcile,
// stats, sleep policy), 250/50 ms readiness polls, the memory-pressure floor.
//
// - BENCH_REAL teams (default 150) are created through the DevOps API, as an
//   operator makes them, BENCH_CREATE_CONCURRENCY at a time;
// - BENCH_AWAKE of them (default 50) then serve a paced request stream
//   through nginx (one request per team every BENCH_PACE_MS, default 2 s);
// - the other real teams are left idle, and the sleep policy decides: half
//   carry a team override of pause 1m / stop 2m, half pause 1m / stop never
//   (the plan defaults are 15m / 12h; the shorter times are the bench's one
//   trick, so that it ends in minutes), and the pressure rule stops frozen
//   teams when MemAvailable falls below the floor;
// - the rest, up to BENCH_TEAMS (default 1,000), are registered asleep: a
//   registry entry, its route to the wake listener and its two volumes (made
//   by the platform's own renderer), which is all a team stopped for sleep
//   holds (tenants/sleep-steps.ts); they never ran, so only real teams are
//   woken below.
// Then it reports host memory (MemTotal − MemAvailable) before and after,
// memory per state (docker stats of sampled teams), wake first byte p50/p95
// of random sleepers through nginx while the stream runs (each put back to
// sleep afterwards), reconcile pass time, the console dashboard's load time
// in Chromium (the real console against this platform, an operator's
// session), the count of Docker objects and iptables lines, and the stream's
// answers (every non-200 counted). Asserts nothing; removes what it made.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { authenticator } from 'otplib';
import { launchBrowser, visit } from '../console/test/helpers/browser.js';
import { buildConsole, ROOT, startConsole } from '../console/test/helpers/console.js';
import { LABEL } from '../orchestrator/src/runtime/labels.js';
import { downStack } from '../orchestrator/src/stacks/stack-runner.js';
import { runtime } from '../orchestrator/test/helpers/docker.js';
import { freePort } from '../orchestrator/test/helpers/nginx.js';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { registerSleepers } from './register-sleepers.js';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';

const TEAMS = Number(process.env.BENCH_TEAMS ?? 1000);
const REAL = Math.min(TEAMS, Number(process.env.BENCH_REAL ?? 150));
const AWAKE = Math.min(REAL, Number(process.env.BENCH_AWAKE ?? 50));
const WAKES = Number(process.env.BENCH_WAKES ?? 20);
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 2000);
const CREATE_CONCURRENCY = Number(process.env.BENCH_CREATE_CONCURRENCY ?? 3);
const REGISTER_CONCURRENCY = 6;
const IDLE_STOPS = { pause: '1m', stop: '2m' };
const IDLE_FREEZES = { pause: '1m', stop: 'never' };
/** How long the idle real teams get to be put to sleep by the policy. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 7 * 60_000);
/** BERTH_PORT_RANGE of scripts/defaults.env (a test platform's own slice holds 100). */
const PORT_RANGE = { from: 20_000, to: 29_999 };
const MB = 1024 * 1024;

const run = promisify(execFile);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function mapLimit<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

async function meminfo(): Promise<{ total: number; available: number }> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { total: kb('MemTotal'), available: kb('MemAvailable') };
}
const used = async () => {
  const m = await meminfo();
  return m.total - m.available;
};

async function counts(): Promise<string> {
  const lines = async (cmd: string, args: string[]) => (await run(cmd, args, { maxBuffer: 256 * MB })).stdout.split('\n').filter(Boolean).length;
  return `${await lines('docker', ['ps', '-aq'])} containers (${await lines('docker', ['ps', '-q'])} running), ${await lines('docker', ['network', 'ls', '-q'])} networks, ${await lines('docker', ['volume', 'ls', '-q'])} volumes, ${await lines('iptables-save', [])} iptables lines on the host`;
}

const tag = randomBytes(2).toString('hex');
const tp = await startTestPlatform(`dn${tag}`, { portRange: PORT_RANGE });
const { platform: p, config: c } = tp;
const made: string[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let stopStream = false;
let cleanup: Array<() => Promise<unknown>> = [];

/** One request through nginx; first byte time and status. */
function firstByte(slug: string, options: { keepAlive?: boolean } = {}): Promise<{ ms: number; status: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port: c.nginx.httpPort, path: '/healthz', agent: options.keepAlive ? agent : false, timeout: 60_000, headers: { host: `${slug}.${c.baseDomain}`, accept: 'application/json' } }, (res) => {
      const took = performance.now() - t0;
      res.resume();
      res.on('end', () => resolve({ ms: took, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', () => resolve({ ms: performance.now() - t0, status: 0 }));
    req.end();
  });
}

try {
  const base = { used: await used(), load: loadavg() };
  await p.startLoops();
  console.log(`density bench: ${TEAMS} teams: ${REAL} created through the API (${AWAKE} awake under a paced stream, one request per team every ${PACE_MS} ms; ${REAL - AWAKE} idle: half with a team override pause ${IDLE_STOPS.pause} / stop ${IDLE_STOPS.stop}, half ${IDLE_FREEZES.pause} / ${IDLE_FREEZES.stop}), ${TEAMS - REAL} registered asleep (registry entry, route, volumes: what a sleeping team holds), never started`);
  console.log(`settings (production, scripts/defaults.env): health every ${c.health.intervalMs} ms, reconcile ${c.reconcileIntervalMs} ms, stats ${c.stats.intervalMs} ms, sleep policy ${c.sleep.intervalMs} ms, memory floor ${c.sleep.minAvailableBytes / MB} MB (stops ${c.sleep.pressureBatch} frozen teams per pass), max parallel operations ${c.maxParallelOps}, ports ${c.portRange.from}-${c.portRange.to} (registered sleepers hold the top ones), start CPUs ${c.start.cpus}, start probes every ${c.start.probeIntervalMs} ms, health probes every ${c.health.intervalMs} ms; host ${os.cpus().length} CPUs, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, load ${base.load}; ${(base.used / MB).toFixed(0)} MB used before`);
  console.log(`before: ${await counts()}`);

  // ---- real teams, through the API ----
  await p.app.listen({ host: '127.0.0.1', port: 0 });
  const api = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' };
  const real = Array.from({ length: REAL }, (_, i) => `dn${tag}-r${String(i).padStart(4, '0')}`);
  let createRetries = 0;
  const createMs: number[] = [];
  const t0 = performance.now();
  await mapLimit(real, CREATE_CONCURRENCY, async (slug, i) => {
    for (let attempt = 0; ; attempt++) {
      const s = performance.now();
      const res = await fetch(`${api}/api/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ slug, plan: 'starter' }) });
      const body = (await res.json()) as { operation?: { id: string }; error?: { code: string; message: string } };
      if (!made.includes(slug)) made.push(slug);
      if (res.status === 429 || body.error?.code === 'TOO_MANY_OPERATIONS') {
        createRetries++;
        await sleepMs(500);
        continue;
      }
      if (!body.operation) throw new Error(`create ${slug}: ${res.status} ${JSON.stringify(body)}`);
      const end = await operationEnd(p.events, body.operation.id, 180_000);
      if (end.type !== 'operation.succeeded') {
        if (attempt >= 1) throw new Error(`create ${slug} failed twice: ${JSON.stringify(end.data)}`);
        createRetries++;
        await p.tenants.delete(slug, { deleteData: true, confirm: slug }).then((a) => operationEnd(p.events, a.operation.id, 120_000)).catch(() => {});
        continue;
      }
      createMs.push(performance.now() - s);
      break;
    }
    // The idle ones sleep by the policy, sooner than the plan's defaults.
    if (i >= AWAKE) await p.sleep.setTimes(slug, (i - AWAKE) % 2 === 0 ? IDLE_STOPS : IDLE_FREEZES);
    if ((i + 1) % 25 === 0) console.log(`  ${i + 1} real teams created (${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()}, ${((await used()) / MB).toFixed(0)} MB used)`);
  });
  console.log(`created ${REAL} real teams in ${((performance.now() - t0) / 1000).toFixed(0)} s (create → succeeded p50 ${f0(pct(createMs, 50))} ms, p95 ${f0(pct(createMs, 95))} ms; ${createRetries} retries)`);

  // ---- the paced stream on the awake teams ----
  const stream = { ok: 0, bad: 0, statuses: new Map<number, number>(), ms: [] as number[] };
  const awake = real.slice(0, AWAKE);
  const streaming = Promise.all(awake.map(async (slug, i) => {
    await sleepMs((PACE_MS * i) / AWAKE);
    while (!stopStream) {
      const next = performance.now() + PACE_MS;
      const r = await firstByte(slug, { keepAlive: true });
      if (r.status === 200) {
        stream.ok++;
        stream.ms.push(r.ms);
      } else {
        stream.bad++;
        stream.statuses.set(r.status, (stream.statuses.get(r.status) ?? 0) + 1);
      }
      await sleepMs(Math.max(0, next - performance.now()));
    }
  }));
  cleanup.push(async () => {
    stopStream = true;
    await streaming;
  });

  // ---- registered sleepers: a registry entry and a real stack, never started ----
  const model = await p.repo.mustGet(real[0]!);
  const registered = Array.from({ length: TEAMS - REAL }, (_, i) => `dn${tag}-s${String(i).padStart(4, '0')}`);
  const t1 = performance.now();
  const registerRetries = await registerSleepers(p, c, registered, {
    model, portTop: PORT_RANGE.to, concurrency: REGISTER_CONCURRENCY, onMade: (slug) => made.push(slug),
    progress: { every: 100, report: (done) => console.log(`  ${done} teams registered asleep (${((performance.now() - t1) / 1000).toFixed(0)} s, load ${loadavg()})`) }
  });
  console.log(`registered ${registered.length} sleeping teams in ${((performance.now() - t1) / 1000).toFixed(0)} s (${registerRetries} retries)`);

  // ---- the policy puts the idle real teams to sleep ----
  const idle = real.slice(AWAKE);
  const t2 = performance.now();
  let phases: Record<string, number> = {};
  for (;;) {
    const docs = await Promise.all(idle.map((slug) => p.repo.mustGet(slug)));
    phases = {};
    for (const d of docs) phases[d.phase] = (phases[d.phase] ?? 0) + 1;
    // Settled: every idle team asleep, and those whose time says stop, stopped (or stopped early by the pressure rule).
    const stopping = Math.ceil(idle.length / 2);
    if ((phases.frozen ?? 0) + (phases.sleeping ?? 0) === idle.length && (phases.sleeping ?? 0) >= stopping) break;
    if (performance.now() - t2 > SETTLE_MS) break;
    await sleepMs(5000);
  }
  console.log(`after ${((performance.now() - t2) / 1000).toFixed(0)} s the idle real teams are: ${JSON.stringify(phases)}; all teams by phase: ${JSON.stringify(await p.repo.countByPhase())}`);
  const steady = { used: await used(), load: loadavg() };
  console.log(`steady state: ${(steady.used / MB).toFixed(0)} MB used (${((steady.used - base.used) / MB).toFixed(0)} MB more than before), load ${steady.load}; ${await counts()}`);

  // ---- memory per state, sampled ----
  const byPhase = async (phase: string) => (await Promise.all(real.map((slug) => p.repo.mustGet(slug)))).filter((d) => d.phase === phase).map((d) => d._id);
  const memoryOf = async (slug: string) => {
    const containers = await runtime.listContainers({ [LABEL.platform]: c.platformId, [LABEL.tenant]: slug });
    let sum = 0;
    for (const x of containers) sum += (await runtime.stats(x.name))?.memoryBytes ?? 0;
    return { sum, running: containers.filter((x) => x.state === 'running' || x.state === 'paused').length };
  };
  const perState: Record<string, string> = {};
  for (const phase of ['running', 'frozen', 'sleeping']) {
    const sample = (await byPhase(phase)).slice(0, 8);
    const mem = [];
    for (const slug of sample) mem.push((await memoryOf(slug)).sum);
    perState[phase] = sample.length ? `${(mem.reduce((a, b) => a + b, 0) / mem.length / MB).toFixed(1)} MB per team (docker stats, ${sample.length} teams sampled)` : 'none';
  }
  perState['registered asleep'] = `${((await memoryOf(registered[0] ?? real[0]!)).sum / MB).toFixed(1)} MB (no process)`;

  // ---- wake random sleepers under the stream ----
  const wakes: Record<string, number[]> = { frozen: [], sleeping: [] };
  let wakeFailures = 0;
  const wakeStatuses: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    // Turn about: a random frozen team, then a random sleeping one.
    const kind = i % 2 === 0 ? 'frozen' : 'sleeping';
    const sleepers = await byPhase(kind);
    if (sleepers.length === 0) {
      console.log(`  wake sample ${i}: no ${kind} team to wake`);
      continue;
    }
    const slug = sleepers[Math.floor(Math.random() * sleepers.length)]!;
    const from = (await p.repo.mustGet(slug)).phase;
    const r = await firstByte(slug);
    if (r.status === 200) wakes[from]!.push(r.ms);
    else {
      wakeFailures++;
      wakeStatuses.push(r.status);
    }
    await p.operations.settled();
    // Back to the state it was in, so the population stays as the policy left it.
    const back = await p.tenants.sleep(slug, { stop: from === 'sleeping' }).catch(() => undefined);
    if (back) await operationEnd(p.events, back.operation.id, 120_000);
  }

  // ---- reconcile pass, console dashboard ----
  const passes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await p.reconciler.pass();
    passes.push(performance.now() - s);
  }
  const dashboard: number[] = [];
  let dashboardRows = 0;
  {
    if (!existsSync(path.join(ROOT, 'console/build/handler.js'))) await buildConsole();
    const web = await startConsole({ BERTH_API_URL: api, PORT: await freePort() });
    cleanup.push(() => web.stop());
    const ops = p.operators;
    const { setupUrl, operator } = await ops.operators.bootstrap({ email: `bench-${tag}@example.com`, name: 'Density Bench' });
    const token = setupUrl.split('/setup/')[1]!;
    const { totpSecret } = await ops.operators.setupStart(token);
    await ops.operators.setupFinish({ token, password: 'correct horse battery', code: authenticator.generate(totpSecret) });
    const { session } = await ops.sessions.create(operator.id);
    const browser = await launchBrowser();
    cleanup.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addCookies([{ name: 'berth_session', value: session, url: web.url, httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await visit(page, `${web.url}/`);
      await page.locator(`[data-slug="${real[0]}"]`).waitFor({ timeout: 60_000 });
      await page.locator('[data-testid=live-status][data-status=open]').waitFor({ timeout: 60_000 });
      dashboard.push(performance.now() - s);
    }
    dashboardRows = Number(/of (\d+) teams/.exec(await page.locator('[data-testid=count]').innerText())?.[1] ?? NaN);
  }

  stopStream = true;
  await streaming;
  const all = await p.repo.countByPhase();
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| teams registered | ${Object.values(all).reduce((a, b) => a + b, 0)} (${JSON.stringify(all)}) |`);
  console.log(`| host memory used, before → steady | ${(base.used / MB).toFixed(0)} MB → ${(steady.used / MB).toFixed(0)} MB |`);
  for (const [state, text] of Object.entries(perState)) console.log(`| memory, ${state} | ${text} |`);
  for (const [from, xs] of Object.entries(wakes)) console.log(`| wake ${from} → first byte (random sleepers, under the stream) | p50 ${f0(pct(xs, 50))} ms, p95 ${f0(pct(xs, 95))} ms, n ${xs.length} |`);
  console.log(`| wakes not answered 200 | ${wakeFailures}${wakeStatuses.length ? ` (${wakeStatuses.join(', ')})` : ''} |`);
  console.log(`| paced stream (${AWAKE} awake teams) | ${stream.ok} × 200, p50 ${f0(pct(stream.ms, 50))} ms, p95 ${f0(pct(stream.ms, 95))} ms; ${stream.bad} not 200 ${JSON.stringify(Object.fromEntries(stream.statuses))} |`);
  console.log(`| reconcile pass (${TEAMS} teams) | p50 ${f0(pct(passes, 50))} ms, max ${f0(Math.max(...passes))} ms (3 passes) |`);
  console.log(`| console dashboard load (Chromium, rows shown + live socket open) | p50 ${f0(pct(dashboard, 50))} ms of 3, ${dashboardRows} teams listed |`);
  console.log(`load at end ${loadavg()}`);
} finally {
  stopStream = true;
  for (const step of cleanup.reverse()) await step().catch((err: Error) => console.error(`cleanup: ${err.message}`));
  cleanup = [];
  agent.destroy();
  const t3 = performance.now();
  await mapLimit([...made], REGISTER_CONCURRENCY, async (slug) => {
    await downStack(runtime, slug, { deleteData: true, platform: c.platformId }).catch((err: Error) => console.error(`${slug}: ${err.message}`));
  });
  console.log(`removed ${made.length} teams in ${((performance.now() - t3) / 1000).toFixed(0)} s`);
  await tp.close();
}
