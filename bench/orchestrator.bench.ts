// The orchestrator as an operator meets it (issue 3): a whole platform of its
// own (startTestPlatform: platform DB container, private nginx, own platform
// id), driven through the DevOps API on a real 127.0.0.1 listen. Measures
// create → first 200 through nginx for 10 tenants created one after another,
// start-from-stopped → first 200, route apply with 10 and with 1,000 route
// files, GET /api/v1/tenants with 1,000 registered tenants, and the memory of
// one idle stack. Also prints where create and start time goes (step events).
// Prints a table and writes bench/results/orchestrator-<iso>.json; asserts
// nothing; removes everything it made, also on failure. Production settings:
// the loops run (health, reconcile, stats, sleep) at scripts/defaults.env's
// intervals, and the 990 listed teams beyond the 10 real ones are registered
// asleep with their volumes and routes. BENCH_TRACE=1 also
// prints every operation event as it arrives.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../orchestrator/src/config/config.js';
import { httpGet } from '../orchestrator/src/runtime/http-get.js';
import { testConfig } from '../orchestrator/src/proxy/nginx-control.js';
import type { RouteSpec } from '../orchestrator/src/proxy/route-entry.js';
import { downStack } from '../orchestrator/src/stacks/stack-runner.js';
import { registerSleepers } from './register-sleepers.js';
import { startTestPlatform, type TestPlatform } from '../orchestrator/test/helpers/platform.js';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';

const TENANTS = 10;
const REGISTERED = 1000;
const ROUTES = 1000;
const ROUTE_ROUNDS = 10;
const LIST_CALLS = 60;
const IDLE_MS = 10_000;
/** Ports for the stand-in routes and registry entries: outside BERTH_PORT_RANGE, nothing listens. */
const STAND_IN_PORT = 31_000;
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Nearest-rank percentile. */
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

interface Row { metric: string; value: number; unit: string; target?: number; samples?: number[] }
const rows: Row[] = [];
const profiles: Record<string, Record<string, number>> = {};
const memory: Record<string, number> = {};

/** Every operation's events as they arrive in this process, for the step profile. */
const marks = new Map<string, { name: string; t: number }[]>();
/** Operations that failed, with what their last event said. */
const failed = new Map<string, unknown>();

/** Mean ms from each step's event to the next one's, over the given operations. */
function stepProfile(ops: string[], end: Map<string, number>): Record<string, number> {
  const sums = new Map<string, number[]>();
  for (const op of ops) {
    const list = [...(marks.get(op) ?? []), { name: 'first 200 through nginx', t: end.get(op)! }].sort((a, b) => a.t - b.t);
    for (let i = 0; i + 1 < list.length; i++) {
      const name = `${list[i]!.name} → ${list[i + 1]!.name}`;
      sums.set(name, [...(sums.get(name) ?? []), list[i + 1]!.t - list[i]!.t]);
    }
  }
  return Object.fromEntries([...sums].map(([name, xs]) => [name, round(xs.reduce((a, b) => a + b, 0) / xs.length)]));
}

async function main(tp: TestPlatform, fakeSlugs: string[]): Promise<void> {
  const { platform, config } = tp;
  platform.events.subscribe((e) => {
    if (!e.operation) return;
    const name = e.type === 'operation.step' ? String(e.data?.step) : e.type.replace('operation.', '');
    marks.set(e.operation, [...(marks.get(e.operation) ?? []), { name, t: performance.now() }]);
    if (e.type === 'operation.failed') failed.set(e.operation, e.data);
    if (process.env.BENCH_TRACE) console.error(`${(performance.now() / 1000).toFixed(2)} ${e.tenant} ${e.type} ${JSON.stringify(e.data ?? {})}`);
  });
  // Production settings: the health, reconcile, stats and sleep loops run at scripts/defaults.env's intervals.
  await platform.startLoops();
  console.log(`ran with: loops on (health every ${config.health.intervalMs} ms, reconcile every ${config.reconcileIntervalMs} ms, stats every ${config.stats.intervalMs} ms, sleep policy every ${config.sleep.intervalMs} ms), start probes every ${config.start.probeIntervalMs} ms, start CPUs ${config.start.cpus}; ${REGISTERED - TENANTS} of the ${REGISTERED} listed teams registered asleep with their volumes and routes (what a sleeping team holds); host ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await platform.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${tp.token}` };
  const post = async (url: string, body?: object) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      body: body && JSON.stringify(body)
    });
    const json = (await res.json()) as { operation?: { id: string }; error?: { message: string } };
    if (res.status !== 202 || !json.operation) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json.operation.id;
  };
  const settle = async (op: string) => {
    const end = await operationEnd(platform.events, op, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}; its steps so far: ${(marks.get(op) ?? []).map((m) => m.name).join(', ')}`);
    });
    if (end.type !== 'operation.succeeded') throw new Error(`operation ${op} failed: ${JSON.stringify(end.data)}`);
  };
  /** When the first 200 from /healthz at <slug>.<baseDomain> came through nginx, while `op` runs. */
  const firstOk = async (slug: string, op: string) => {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      if (failed.has(op)) throw new Error(`operation ${op} on ${slug} failed: ${JSON.stringify(failed.get(op))}`);
      const answer = await httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 2000, { host: `${slug}.${config.baseDomain}` }).catch(() => ({ status: 0 }));
      if (answer.status === 200) return performance.now();
      await sleep(20);
    }
    throw new Error(`${slug} never answered 200 through nginx`);
  };

  // 1. Create, one tenant after another (each waits for the previous one to end).
  const tag = randomBytes(3).toString('hex');
  const slugs = Array.from({ length: TENANTS }, (_, i) => `bo${tag}-t${String(i).padStart(2, '0')}`);
  const createOps: string[] = [];
  const firstOkAt = new Map<string, number>();
  const create: number[] = [];
  for (const slug of slugs) {
    const t0 = performance.now();
    const op = await post('/api/v1/tenants', { slug, plan: 'starter' });
    const at = await firstOk(slug, op);
    await settle(op);
    create.push(at - t0);
    createOps.push(op);
    firstOkAt.set(op, at);
  }
  rows.push({ metric: `create → first 200 via nginx, p50 (${TENANTS} tenants, sequential)`, value: pct(create, 50), unit: 'ms', target: 3000, samples: create });
  rows.push({ metric: 'create → first 200 via nginx, p95', value: pct(create, 95), unit: 'ms' });
  profiles.create = stepProfile(createOps, firstOkAt);

  // 5. Memory of one idle stack (done now: every stack is up, nothing runs).
  await sleep(IDLE_MS);
  const idle = platform.stacks.specFor(await platform.repo.mustGet(slugs[0]!));
  for (const service of idle.services) {
    const stats = await platform.runtime.stats(service.container.name);
    memory[service.name] = round((stats?.memoryBytes ?? 0) / MB);
  }
  const total = Object.values(memory).reduce((a, b) => a + b, 0);
  for (const [service, mb] of Object.entries(memory)) rows.push({ metric: `idle stack memory: ${service}`, value: mb, unit: 'MB' });
  rows.push({ metric: `idle stack memory: total (${IDLE_MS / 1000} s idle)`, value: round(total), unit: 'MB' });

  // 2. Stop each tenant, then start it: the start call → first 200.
  const startOps: string[] = [];
  const start: number[] = [];
  for (const slug of slugs) {
    await settle(await post(`/api/v1/tenants/${slug}/actions/stop`));
    const t0 = performance.now();
    const op = await post(`/api/v1/tenants/${slug}/actions/start`);
    const at = await firstOk(slug, op);
    await settle(op);
    start.push(at - t0);
    startOps.push(op);
    firstOkAt.set(op, at);
  }
  rows.push({ metric: 'start from stopped → first 200 via nginx, p50', value: pct(start, 50), unit: 'ms', target: 1500, samples: start });
  profiles.start = stepProfile(startOps, firstOkAt);

  // 3. Route apply: setRoute for one tenant until nginx serves it (the table file follows behind).
  const routed = await platform.repo.mustGet(slugs[0]!);
  const applyRoutes = async () => {
    const times: number[] = [];
    const reloads: number[] = [];
    for (let i = 0; i < ROUTE_ROUNDS; i++) {
      // Another body size each round: a real change.
      const t0 = performance.now();
      await platform.routes.setRoute(routed._id, { kind: 'up', port: routed.port, maxBodySize: `${100 + (i % 2)}m` });
      times.push(performance.now() - t0);
      reloads.push(platform.routes.stats().lastChangeMs);
    }
    await platform.routes.setRoute(routed._id, { kind: 'up', port: routed.port });
    return { times, reloads };
  };
  const few = await applyRoutes();
  rows.push({ metric: `route apply, p50 (${(await platform.routes.listRoutes()).length} routes)`, value: pct(few.times, 50), unit: 'ms', samples: few.times });
  rows.push({ metric: '  of which the control request, p50', value: pct(few.reloads, 50), unit: 'ms' });

  const extra = Array.from({ length: ROUTES - TENANTS }, (_, i) => `bo${tag}-r${String(i).padStart(4, '0')}`);
  for (const [i, slug] of extra.entries()) {
    const route: RouteSpec = { kind: 'up', port: STAND_IN_PORT + i };
    await platform.routes.setRoute(slug, route);
  }
  const many = await applyRoutes();
  const present = (await platform.routes.listRoutes()).length;
  rows.push({ metric: `route apply, p50 (${present} routes)`, value: pct(many.times, 50), unit: 'ms', target: 150, samples: many.times });
  rows.push({ metric: '  of which the control request, p50', value: pct(many.reloads, 50), unit: 'ms' });
  const nginxT: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await testConfig({ bin: config.nginx.bin, prefix: config.nginx.prefix, confFile: config.nginx.confFile });
    nginxT.push(performance.now() - t0);
  }
  rows.push({ metric: '  of which nginx -t alone, p50', value: pct(nginxT, 50), unit: 'ms' });
  for (const slug of extra) await platform.routes.removeRoute(slug);

  // 4. GET /api/v1/tenants with 1,000 registered tenants: 990 registered
  // asleep, each with its volumes and its route (all a team stopped for sleep
  // holds), secrets sealed to its own slug, in the registry and on the engine.
  const model = await platform.repo.mustGet(slugs[0]!);
  const sleepers = Array.from({ length: REGISTERED - TENANTS }, (_, i) => `bo${tag}-f${String(i).padStart(4, '0')}`);
  await registerSleepers(platform, config, sleepers, { model, portTop: STAND_IN_PORT + sleepers.length, concurrency: 10, onMade: (slug) => fakeSlugs.push(slug) });
  const list: number[] = [];
  let listed = 0;
  for (let i = 0; i < LIST_CALLS + 5; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/tenants`, { headers });
    listed = ((await res.json()) as { tenants: unknown[] }).tenants.length;
    if (i >= 5) list.push(performance.now() - t0); // the first few warm up the connection and the JIT
  }
  rows.push({ metric: `GET /api/v1/tenants, p50 (${listed} tenants, ${LIST_CALLS} calls)`, value: pct(list, 50), unit: 'ms', target: 50, samples: list });
  rows.push({ metric: 'GET /api/v1/tenants, p95', value: pct(list, 95), unit: 'ms' });
  const registry: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await platform.repo.list();
    registry.push(performance.now() - t0);
  }
  rows.push({ metric: '  of which reading the registry (1,000 docs), p50', value: pct(registry, 50), unit: 'ms' });
}

function report(): string {
  const cells = rows.map((r) => [
    r.metric,
    `${r.unit === 'ms' && r.value >= 1000 ? `${(r.value / 1000).toFixed(2)} s` : `${round(r.value)} ${r.unit}`}`,
    r.target === undefined ? '' : r.target >= 1000 ? `≤ ${r.target / 1000} s` : `≤ ${r.target} ${r.unit}`,
    r.target === undefined ? '' : r.value <= r.target ? 'yes' : 'NO'
  ]);
  const all = [['metric', 'value', 'target', 'met'], ...cells];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  const profile = Object.entries(profiles).map(([op, steps]) =>
    `\nwhere ${op} time goes (mean ms between events):\n${Object.entries(steps).map(([s, ms]) => `  ${s}: ${ms}`).join('\n')}`).join('\n');
  return [line(all[0]!), ...cells.map(line)].join('\n') + profile;
}

// Its own slice of BERTH_PORT_RANGE: tests running beside it take the lowest
// free ports, and two platforms can pick the same one between check and start.
const slice = 29_000 + 100 * Math.floor(Math.random() * 9);
const tp = await startTestPlatform('orchbench', { portRange: { from: slice, to: slice + 99 } });
const fakeSlugs: string[] = [];
let failure: unknown;
try {
  await main(tp, fakeSlugs);
} catch (err) {
  failure = err;
} finally {
  // The sleepers hold volumes only; taking them out of the registry spares
  // close() a Docker clean-up call per slug. The route table lives in the platform's
  // temporary home, which close() removes with nginx and the database.
  await tp.platform.db.db.collection<{ _id: string }>('tenants').deleteMany({ _id: { $in: fakeSlugs } }).catch(() => {});
  for (let i = 0; i < fakeSlugs.length; i += 10) {
    await Promise.all(fakeSlugs.slice(i, i + 10).map((slug) => downStack(tp.platform.runtime, slug, { deleteData: true, platform: tp.config.platformId }).catch((err: Error) => console.error(`${slug}: ${err.message}`))));
  }
  await tp.close();
}
console.log(report());
if (rows.length > 0) {
  const dir = path.join(ROOT_DIR, 'bench/results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `orchestrator-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const roundAll = (xs?: number[]) => xs?.map((x) => round(x));
  await writeFile(file, `${JSON.stringify({
    at: new Date().toISOString(), host: { cpus: os.cpus().length },
    metrics: rows.map((r) => ({ ...r, value: round(r.value), samples: roundAll(r.samples), met: r.target === undefined ? undefined : r.value <= r.target })),
    memoryMB: memory, profiles, ...(failure ? { error: String(failure) } : {})
  }, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(ROOT_DIR, file)}`);
}
if (failure) {
  console.error(failure);
  process.exitCode = 1;
}
