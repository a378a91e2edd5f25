// Bulk upgrade of 20 tenants at concurrency 4 while a request stream runs
// against each of them through nginx (one kept-alive and one new-connection
// lane per tenant). Creating the tenants is not timed. Prints the job's wall
// time, each swap's duration and the failed/total requests; the stream never
// retries (retried === 0), so a reset kept-alive connection is a failure.
// Targets: 0 failed, 0 resets, ≤ 45 s (issue 12). Production settings: the
// orchestrator's loops (health, reconcile, stats, sleep policy) run at
// scripts/defaults.env's intervals, and the output says so. Asserts nothing;
// cleans up everything it made.
import os from 'node:os';
import { removeVersions, tagVersion, testVersion } from '../orchestrator/test/helpers/app-versions.js';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { startStream } from '../orchestrator/test/helpers/request-stream.js';
import { operationEnd, until } from '../orchestrator/test/helpers/wait.js';

const TENANTS = 20;
const CONCURRENCY = 4;

const tp = await startTestPlatform('bench-upg', { maxParallelOps: CONCURRENCY });
const version = await tagVersion(testVersion('bench'));
const auth = { authorization: `Bearer ${tp.token}` };
const { app } = tp.platform;
await tp.platform.startLoops();
const c = tp.config;
console.log(`ran with: loops on (health every ${c.health.intervalMs} ms, reconcile every ${c.reconcileIntervalMs} ms, stats every ${c.stats.intervalMs} ms, sleep policy every ${c.sleep.intervalMs} ms), start CPUs ${c.start.cpus}, start probes every ${c.start.probeIntervalMs} ms, upgrade health timeout ${c.upgrades.healthTimeoutMs} ms, drain timeout ${c.upgrades.drainTimeoutMs} ms; ${TENANTS} teams at concurrency ${CONCURRENCY}, no canary; host ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
try {
  const slugs = Array.from({ length: TENANTS }, (_, i) => `bu${String(i).padStart(2, '0')}-${tp.config.platformId.slice(-6)}`);
  let t0 = performance.now();
  const ops = await Promise.all(slugs.map(async (slug) => (await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug } })).json().operation.id as string));
  for (const op of ops) {
    const end = await operationEnd(tp.platform.events, op, 600_000);
    if (end.type !== 'operation.succeeded') throw new Error(`a tenant was not created: ${JSON.stringify(end.data)}`);
  }
  console.log(`created ${TENANTS} tenants in ${((performance.now() - t0) / 1000).toFixed(1)} s (not part of the measurement)`);

  const streams = slugs.map((slug) => startStream({ port: tp.nginx.port, host: `${slug}.${tp.config.baseDomain}`, lanes: 2, pauseMs: 100, maxMs: 600_000 }));
  await new Promise((r) => setTimeout(r, 2000)); // every stream running before the job starts
  t0 = performance.now();
  const created = await app.inject({ method: 'POST', url: '/api/v1/upgrades', headers: auth, payload: { toVersion: version, all: true, canary: 0, concurrency: CONCURRENCY, autoApprove: true } });
  if (created.statusCode !== 202) throw new Error(`job refused: ${created.body}`);
  const id = created.json().id as string;
  const job = await until(async () => {
    const j = (await app.inject({ method: 'GET', url: `/api/v1/upgrades/${id}`, headers: auth })).json();
    return j.state !== 'running' ? j : undefined;
  }, 900_000, 'the upgrade job to end', 200);
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000)); // a moment on the new version
  const reports = await Promise.all(streams.map((s) => s.stop()));

  const total = reports.reduce((n, r) => n + r.total, 0);
  const failed = reports.reduce((n, r) => n + r.failed, 0);
  const retried = reports.reduce((n, r) => n + r.retried, 0);
  const bothVersions = reports.filter((r) => Object.keys(r.versions).length === 2).length;
  const swaps = (job.tenants as { startedAt: string; endedAt: string }[]).map((e) => (Date.parse(e.endedAt) - Date.parse(e.startedAt)) / 1000).sort((a, b) => a - b);
  console.log(`job ${job.state}: ${job.counts.succeeded}/${TENANTS} tenants upgraded at concurrency ${CONCURRENCY}${job.reason ? ` (${job.reason})` : ''}`);
  for (const e of job.tenants as { slug: string; state: string; error?: { code: string; message: string } }[]) if (e.error) console.log(`  ${e.slug} ${e.state}: ${e.error.code} ${e.error.message.slice(0, 200)}`);
  console.log(`total upgrade time: ${seconds.toFixed(1)} s (target ≤ 45 s)`);
  console.log(`one tenant's swap: median ${swaps[Math.floor(swaps.length / 2)]!.toFixed(1)} s, max ${swaps[swaps.length - 1]!.toFixed(1)} s`);
  const resets = reports.reduce((n, r) => n + r.resets, 0);
  console.log(`requests: ${failed} failed of ${total} (target 0), no client retry at all: retried ${retried} (must be 0), ${resets} resets of a kept-alive connection (target 0); ${bothVersions}/${TENANTS} streams saw both versions`);
  if (retried !== 0) throw new Error(`retried === 0 does not hold: ${retried}`);
  for (const r of reports) for (const f of r.failures.slice(0, 3)) console.log(`  failure: ${f}`);
  // Where a swap's time goes: from each step's event to the next, median over the tenants.
  const spans = new Map<string, number[]>();
  for (const slug of slugs) {
    const history = (await tp.platform.events.history({ tenant: slug }, 500)).filter((e) => e.data?.kind === 'upgrade' && e.type.startsWith('operation.'));
    for (let i = 0; i + 1 < history.length; i++) {
      const name = String(history[i]!.data?.step ?? history[i]!.type.replace('operation.', ''));
      spans.set(name, [...(spans.get(name) ?? []), (Date.parse(history[i + 1]!.at) - Date.parse(history[i]!.at)) / 1000]);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`median seconds per step: ${[...spans].map(([name, xs]) => `${name.replace(/^start:.*/, 'start')} ${med(xs).toFixed(2)}`).join(', ')}`);
} finally {
  await tp.close();
  await removeVersions(version);
}
