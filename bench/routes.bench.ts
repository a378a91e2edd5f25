// Route apply at scale (issue 12 item 7), with production settings: a whole
// platform of its own (startTestPlatform: platform DB, private nginx with the
// Lua route table, own home) with every loop running (supervisor, reconciler,
// health monitor, stats) at the intervals of scripts/defaults.env.
//
// 1. RouteManager.setRoute (control request + table file) p50/p95 with 10,
//    1,000 and 10,000 route entries. A few entries are real teams (created
//    through the API: containers, app, health checks); the rest are stand-ins:
//    stopped teams in the registry (no containers) whose entry is the
//    "stopped" page, so the reconciler keeps them and checks each of them on
//    every pass, as it would real stopped teams. The changes measured are on
//    the real teams (another body size each time).
// 2. 1,000 route changes at 10,000 entries while every real team gets a steady
//    request stream through nginx (half the lanes HTTP/1.1 keep-alive, half a
//    new connection each; no client retry at all): resets and failed requests.
//
// Prints what it ran with, a table, and writes bench/results/routes-<iso>.json.
// Targets (issue 12): p50 ≤ 5 ms, p50 at 10,000 / p50 at 10 ≤ 1.5, 0 resets,
// 0 failed. Asserts nothing; removes everything it made, also on failure.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../orchestrator/src/config/config.js';
import { DEFAULT_MAX_BODY_SIZE } from '../orchestrator/src/proxy/route-entry.js';
import type { TenantDoc } from '../orchestrator/src/tenants/tenant.types.js';
import { startTestPlatform, type TestPlatform } from '../orchestrator/test/helpers/platform.js';
import { startStream, type StreamReport } from '../orchestrator/test/helpers/request-stream.js';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';

const REAL = 3;
const LEVELS = [10, 1_000, 10_000];
const ROUNDS = 300;
/** Between two measured changes: spreads a level's samples over 15 s, half a production reconcile interval. */
const PAUSE_MS = 50;
const CHANGES_UNDER_LOAD = 1_000;
const PAUSE_UNDER_LOAD_MS = 10;
/** Stand-ins' ports: outside BERTH_PORT_RANGE; nothing listens (their entries are "stopped" pages). */
const STAND_IN_PORT = 40_000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).trim();

interface Row { metric: string; value: number; unit: string; target?: string; met?: boolean }
const rows: Row[] = [];
const samples: Record<string, number[]> = {};
const notes: string[] = [];
let load: StreamReport[] = [];

async function main(tp: TestPlatform, standIns: string[]): Promise<void> {
  const { platform, config } = tp;
  const auth = { authorization: `Bearer ${tp.token}` };
  notes.push(
    `platform: loops on (nginx supervisor every 1 s, reconciler every ${config.reconcileIntervalMs} ms, health every ${config.health.intervalMs} ms, ` +
      `stats every ${config.stats.intervalMs} ms), route control deadline 10000 ms, nginx ${config.nginx.bin}, table file ${config.nginx.tableFile}`,
    `entries: ${REAL} real teams (created through the API, containers running) + stand-ins (stopped teams in the registry, no containers, entry "down stopped")`,
    `measured: ${ROUNDS} setRoute calls per level on the real teams (body size ${DEFAULT_MAX_BODY_SIZE} <-> 101m), one after another, ${PAUSE_MS} ms apart; ` +
      'each sample also tagged by whether a reconciler pass was running (at 10,000 teams a pass checks every entry with nginx)'
  );
  // Counts reconcile passes in flight (the loop calls this.pass(), which finds this wrapper first): for tagging samples only.
  let passing = 0;
  const passes: number[] = [];
  const pass = platform.reconciler.pass.bind(platform.reconciler);
  platform.reconciler.pass = () => {
    passing++;
    const t0 = performance.now();
    return pass().finally(() => {
      passing--;
      passes.push(performance.now() - t0);
    });
  };
  await platform.startLoops();

  const tag = randomBytes(3).toString('hex');
  const real = Array.from({ length: REAL }, (_, i) => `rb${tag}-t${i}`);
  for (const slug of real) {
    const res = await platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug } });
    if (res.statusCode !== 202) throw new Error(`create ${slug}: ${res.statusCode} ${res.body}`);
    const end = await operationEnd(platform.events, res.json().operation.id as string, 180_000);
    if (end.type !== 'operation.succeeded') throw new Error(`create ${slug} failed: ${JSON.stringify(end.data)}`);
  }
  const ports = new Map<string, number>();
  for (const slug of real) ports.set(slug, (await platform.repo.mustGet(slug)).port);
  const model = await platform.repo.mustGet(real[0]!);

  /** Adds stopped stand-in teams until `total` entries exist: registry first (so the reconciler keeps them), then the route. */
  const grow = async (total: number) => {
    const from = standIns.length;
    const add = Array.from({ length: total - REAL - from }, (_, i) => `rb${tag}-s${String(from + i).padStart(5, '0')}`);
    for (let i = 0; i < add.length; i += 100) {
      const batch = add.slice(i, i + 100);
      await Promise.all(batch.map((slug, j) => {
        const now = new Date();
        const doc: TenantDoc = {
          _id: slug, displayName: `Stand-in ${slug}`, plan: model.plan, template: model.template, templateVersion: model.templateVersion,
          appVersion: model.appVersion, phase: 'stopped', desired: 'stopped', port: STAND_IN_PORT + from + i + j, secrets: model.secrets, createdAt: now, updatedAt: now
        };
        standIns.push(slug);
        return platform.repo.insert(doc);
      }));
      // Concurrent calls: the manager sends them one at a time and they share table writes.
      await Promise.all(batch.map((slug) => platform.routes.setRoute(slug, { kind: 'down', state: 'stopped' })));
    }
  };

  let flip = 0;
  let duringPass = false;
  const change = async () => {
    const slug = real[flip % REAL]!;
    const maxBodySize = Math.floor(flip / REAL) % 2 === 0 ? '101m' : DEFAULT_MAX_BODY_SIZE;
    flip++;
    const t0 = performance.now();
    duringPass = passing > 0;
    await platform.routes.setRoute(slug, { kind: 'up', port: ports.get(slug)!, maxBodySize });
    duringPass ||= passing > 0;
    return performance.now() - t0;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const settleBodySizes = async () => {
    for (const slug of real) await platform.routes.setRoute(slug, { kind: 'up', port: ports.get(slug)!, maxBodySize: DEFAULT_MAX_BODY_SIZE });
  };

  const p50s = new Map<number, number>();
  const quietP50s = new Map<number, number>();
  for (const level of LEVELS) {
    const t0 = performance.now();
    await grow(level);
    const held = (await platform.routes.listRoutes()).length;
    const file = (await readFile(config.nginx.tableFile)).length;
    notes.push(`level ${level}: ${held} entries in nginx, table file ${file} bytes, filled in ${round((performance.now() - t0) / 1000, 1)} s; load ${await loadavg()}`);
    const times: number[] = [];
    const quiet: number[] = [];
    const busy: number[] = [];
    const writesBefore = platform.routes.stats().writes;
    passes.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const ms = await change();
      times.push(ms);
      (duringPass ? busy : quiet).push(ms);
      await sleep(PAUSE_MS);
    }
    const { writes, lastWriteMs } = platform.routes.stats();
    await settleBodySizes();
    samples[`apply@${level}`] = times.map((x) => round(x));
    p50s.set(level, pct(times, 50));
    rows.push({ metric: `route apply p50, ${held} entries`, value: pct(times, 50), unit: 'ms', target: '≤ 5 ms', met: pct(times, 50) <= 5 });
    rows.push({ metric: `route apply p95, ${held} entries`, value: pct(times, 95), unit: 'ms' });
    if (quiet.length > 0) quietP50s.set(level, pct(quiet, 50));
    if (quiet.length > 0) rows.push({ metric: `  no reconcile pass running: p50 / p95 (${quiet.length} samples)`, value: pct(quiet, 50), unit: `ms / ${round(pct(quiet, 95))} ms` });
    if (busy.length > 0) rows.push({ metric: `  a reconcile pass running: p50 / p95 (${busy.length} samples)`, value: pct(busy, 50), unit: `ms / ${round(pct(busy, 95))} ms` });
    notes.push(`level ${level}: ${writes - writesBefore} table file writes behind the ${ROUNDS} changes (last took ${round(lastWriteMs)} ms); reconcile passes ended meanwhile: ${passes.map((ms) => `${round(ms / 1000, 1)} s`).join(', ') || 'none'}`);
  }
  const ratio = p50s.get(LEVELS[LEVELS.length - 1]!)! / p50s.get(LEVELS[0]!)!;
  rows.push({ metric: `flatness: p50 at ${LEVELS[LEVELS.length - 1]} / p50 at ${LEVELS[0]}`, value: ratio, unit: '×', target: '≤ 1.5', met: ratio <= 1.5 });
  const top = quietP50s.get(LEVELS[LEVELS.length - 1]!);
  const bottom = quietP50s.get(LEVELS[0]!);
  if (top !== undefined && bottom !== undefined) rows.push({ metric: '  the same, samples with no reconcile pass running', value: top / bottom, unit: '×' });

  // 2. Route changes under a steady request stream to every real team.
  const streams = real.map((slug) => startStream({ port: tp.nginx.port, host: `${slug}.${config.baseDomain}`, path: '/version', lanes: 4, pauseMs: 5, maxMs: 600_000 }));
  await new Promise((r) => setTimeout(r, 1000)); // every lane has a kept-alive connection open
  const t0 = performance.now();
  const times: number[] = [];
  for (let i = 0; i < CHANGES_UNDER_LOAD; i++) {
    times.push(await change());
    await sleep(PAUSE_UNDER_LOAD_MS);
  }
  const seconds = (performance.now() - t0) / 1000;
  await settleBodySizes();
  await new Promise((r) => setTimeout(r, 1000)); // requests after the last change too
  load = await Promise.all(streams.map((s) => s.stop()));
  const sum = (f: (r: StreamReport) => number) => load.reduce((n, r) => n + f(r), 0);
  samples.underLoad = times.map((x) => round(x));
  const held = (await platform.routes.listRoutes()).length;
  notes.push(`under load: ${CHANGES_UNDER_LOAD} changes on the ${REAL} streamed teams in ${round(seconds, 1)} s at ${held} entries; ` +
    `${REAL} streams × 4 lanes (2 keep-alive, 2 new connection each), 5 ms pause, GET /version, no client retry; changes ${PAUSE_UNDER_LOAD_MS} ms apart; load ${await loadavg()}`);
  rows.push({ metric: `route apply p50 under load, ${held} entries`, value: pct(times, 50), unit: 'ms' });
  rows.push({ metric: `route apply p95 under load, ${held} entries`, value: pct(times, 95), unit: 'ms' });
  rows.push({ metric: 'requests during the changes', value: sum((r) => r.total), unit: '' });
  rows.push({ metric: 'failed requests', value: sum((r) => r.failed), unit: '', target: '0', met: sum((r) => r.failed) === 0 });
  rows.push({ metric: 'resets (kept-alive connection closed under a request)', value: sum((r) => r.resets), unit: '', target: '0', met: sum((r) => r.resets) === 0 });
  rows.push({ metric: 'retried (the stream never retries)', value: sum((r) => r.retried), unit: '', target: '0', met: sum((r) => r.retried) === 0 });
  const stats = platform.routes.stats();
  notes.push(`route manager: ${stats.changes} changes, ${stats.failures} failures, ${stats.restores} restores since start`);
}

function report(): string {
  const cells = rows.map((r) => [r.metric, `${round(r.value)}${r.unit ? ` ${r.unit}` : ''}`, r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO']);
  const all = [['metric', 'value', 'target', 'met'], ...cells];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  const failures = load.flatMap((r) => r.failures.slice(0, 5)).map((f) => `  failure: ${f}`);
  return [...notes, '', line(all[0]!), ...cells.map(line), ...failures].join('\n');
}

const started = await loadavg();
notes.push(`host: ${os.cpus().length} cpus, load at start ${started}`);
const tp = await startTestPlatform('routesbench');
const standIns: string[] = [];
let failure: unknown;
try {
  await main(tp, standIns);
} catch (err) {
  failure = err;
} finally {
  // Stand-ins have no containers: out of the registry first, so close() makes no Docker call for them.
  await tp.platform.db.db.collection<{ _id: string }>('tenants').deleteMany({ _id: { $in: standIns } }).catch(() => {});
  await tp.close();
}
notes.push(`load at end ${await loadavg()}`);
console.log(report());
const dir = path.join(ROOT_DIR, 'bench/results');
await mkdir(dir, { recursive: true });
const file = path.join(dir, `routes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), notes, metrics: rows.map((r) => ({ ...r, value: round(r.value) })), samples, ...(failure ? { error: String(failure) } : {}) }, null, 2)}\n`);
console.log(`\nwritten: ${path.relative(ROOT_DIR, file)}`);
if (failure) {
  console.error(failure);
  process.exitCode = 1;
}
