// GET /api/v1/tenants with 2,000 registered teams (issue 13 item 5: ≤ 10 ms
// p50), on a platform of its own (startTestPlatform) with its loops running
// at production intervals (health, reconcile, stats from scripts/defaults.env)
// and what every counted team holds for real: one team is created through
// the API and serves; every other team is registered asleep (phase
// sleeping) with its route to the wake listener and its two volumes, made by
// the platform's own renderer: all a team stopped for sleep holds
// (tenants/sleep-steps.ts). (The first version made each a stopped stack,
// two networks and three containers: at 2,000 teams, ~4,000 bridge networks
// made one `docker network create` take 21-30 s; bench/network-scale.) Also
// times one Docker list call (what the list paid per call before it answered
// from memory) and one reconcile pass.
// Prints what it ran with; asserts nothing; removes everything it made.
// BENCH_TEAMS sets the count (default 2,000).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LABEL } from '../orchestrator/src/runtime/labels.js';
import { downStack } from '../orchestrator/src/stacks/stack-runner.js';
import { runtime } from '../orchestrator/test/helpers/docker.js';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { registerSleepers } from './register-sleepers.js';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';

const TEAMS = Number(process.env.BENCH_TEAMS ?? 2000);
const CALLS = 100;
const WARMUP = 10;
const CONCURRENCY = 8;
/** BERTH_PORT_RANGE of scripts/defaults.env (a test platform's own slice holds 100); the sleepers hold its top ports. */
const PORT_RANGE = { from: 20_000, to: 29_999 };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const tag = randomBytes(2).toString('hex');
const tp = await startTestPlatform(`bl${tag}`, { portRange: PORT_RANGE });
const { platform, config } = tp;
const made: string[] = [];
let retries = 0;
try {
  await platform.startLoops();
  await platform.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' };
  console.log(`ran with: ${TEAMS} teams (1 created and running, ${TEAMS - 1} registered asleep with their volumes and routes), loops on: health every ${config.health.intervalMs} ms, reconcile every ${config.reconcileIntervalMs} ms, stats every ${config.stats.intervalMs} ms; ${CALLS} calls after ${WARMUP} warm-ups; ${process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS set' : ''}`);

  // One real team, made the way an operator makes one.
  const real = `bl${tag}-real`;
  const created = await fetch(`${base}/api/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ slug: real, plan: 'starter' }) });
  const accepted = (await created.json()) as { operation: { id: string } };
  made.push(real);
  await operationEnd(platform.events, accepted.operation.id, 120_000);
  const model = await platform.repo.mustGet(real);
  // The sleepers: registered with what a team stopped for sleep holds.
  const t0 = performance.now();
  const slugs = Array.from({ length: TEAMS - 1 }, (_, i) => `bl${tag}-s${String(i).padStart(4, '0')}`);
  retries = await registerSleepers(platform, config, slugs, {
    model, portTop: PORT_RANGE.to, concurrency: CONCURRENCY, onMade: (slug) => made.push(slug),
    progress: { every: 250, report: (done) => console.log(`  ${done} teams registered asleep (${((performance.now() - t0) / 1000).toFixed(0)} s)`) }
  });
  const containers = await runtime.listContainers({ [LABEL.platform]: config.platformId });
  console.log(`made ${made.length} teams, ${containers.length} containers, in ${((performance.now() - t0) / 1000).toFixed(0)} s; ${retries} volume retries`);

  const listCall: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    await runtime.listContainers({ [LABEL.platform]: config.platformId });
    listCall.push(performance.now() - s);
  }
  const passes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await platform.reconciler.pass();
    passes.push(performance.now() - s);
  }

  // The list keeps its serialized answer until a team, a container's state,
  // the edge's activity read or a storage figure changes (tenant-views.ts):
  // every call that had to build it again is counted and timed apart.
  const views = platform.tenantViews;
  const build = views.list.bind(views);
  let builds = 0;
  views.list = async (filter) => {
    builds++;
    return build(filter);
  };
  const times: number[] = [];
  const built: number[] = [];
  const kept: number[] = [];
  let listed = 0;
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const before = builds;
    const s = performance.now();
    const res = await fetch(`${base}/api/v1/tenants`, { headers });
    const text = await res.text(); // the whole answer received; parsing it is the client's time, not the server's
    const took = performance.now() - s;
    if (res.status !== 200) throw new Error(`GET /api/v1/tenants: ${res.status}`);
    const body = JSON.parse(text) as { tenants: Array<{ slug: string; services: Record<string, string> }> };
    listed = body.tenants.length;
    if (i === 0 && body.tenants.find((x) => x.slug === real)?.services.app !== 'running') throw new Error('the running team is not shown running');
    if (i >= WARMUP) {
      times.push(took);
      (builds > before ? built : kept).push(took);
    }
  }
  // The cost when something changed before every call: the edge's activity
  // read (what the stats and sleep loops do every 10-15 s) before each one.
  const changed: number[] = [];
  for (let i = 0; i < 20; i++) {
    await platform.activity.refresh();
    const before = builds;
    const s = performance.now();
    const res = await fetch(`${base}/api/v1/tenants`, { headers });
    await res.text();
    changed.push(performance.now() - s);
    if (builds === before) throw new Error('an activity read did not make the list build again');
  }
  views.list = build;
  console.log('');
  console.log('| metric | p50 | p95 | target |');
  console.log('|---|---|---|---|');
  console.log(`| GET /api/v1/tenants (${listed} teams, ${CALLS} calls, loops running) | ${ms(pct(times, 50))} | ${ms(pct(times, 95))} | ≤ 10 ms p50 |`);
  console.log(`| … of which answered from the kept answer (${kept.length} calls) | ${kept.length ? ms(pct(kept, 50)) : '-'} | ${kept.length ? ms(pct(kept, 95)) : '-'} | |`);
  console.log(`| … of which built again: something had changed (${built.length} calls) | ${built.length ? ms(pct(built, 50)) : '-'} | ${built.length ? ms(pct(built, 95)) : '-'} | |`);
  console.log(`| GET /api/v1/tenants right after an activity read (20 calls, each built again) | ${ms(pct(changed, 50))} | ${ms(pct(changed, 95))} | |`);
  console.log(`| one Docker list call over ${containers.length} containers (what each list paid before) | ${ms(pct(listCall, 50))} | ${ms(pct(listCall, 95))} | |`);
  console.log(`| one reconcile pass (${listed} teams) | ${ms(pct(passes, 50))} | ${ms(Math.max(...passes))} (max of 3) | |`);
} finally {
  const t1 = performance.now();
  await mapLimit([...made], CONCURRENCY, async (slug) => {
    await downStack(runtime, slug, { deleteData: true, platform: config.platformId }).catch((err: Error) => console.error(`${slug}: ${err.message}`));
  });
  console.log(`removed ${made.length} teams in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  await tp.close();
}
