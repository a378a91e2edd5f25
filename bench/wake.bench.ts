// Wake on request (issue 13 item 3): a request through nginx for a frozen
// team (docker pause) and for a sleeping one (stopped), time to the first
// byte of the app's answer. Targets: frozen → first byte p50 ≤ 100 ms,
// stopped → first byte p50 ≤ 1.2 s. Production settings: the platform's
// own configuration (scripts/defaults.env: health, reconcile, stats and
// sleep loops on at their intervals, 250 ms readiness polls), a real nginx,
// a real orchestrator (startTestPlatform: its own database, nginx, home).
// Yardstick in the same run: the same request to the team awake.
// Every sample counts; a request that is not answered 200 is counted as a
// failure and shown. Prints what it ran with; asserts nothing; removes what it made.
import http from 'node:http';
import os from 'node:os';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';
import { testSlug } from '../orchestrator/test/helpers/docker.js';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';

const ROUNDS = Number(process.env.BENCH_SAMPLES ?? 10);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const tp = await startTestPlatform('wakebench');
const p = tp.platform;
const c = tp.config;
try {
  await p.startLoops();
  console.log(`wake bench: ${ROUNDS} wakes of each kind; host ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  console.log(`settings: health ${c.health.intervalMs} ms, reconcile ${c.reconcileIntervalMs} ms, stats ${c.stats.intervalMs} ms, sleep policy ${c.sleep.intervalMs} ms (loops on), max parallel ops ${c.maxParallelOps}, API hold ${c.wake.holdMs} ms, app ${c.defaultAppVersion}`);
  const slug = testSlug('wb');
  const made = await p.tenants.create({ slug });
  const end = await operationEnd(p.events, made.operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`create failed: ${JSON.stringify(end.data)}`);

  const firstByte = () => new Promise<{ ms: number; status: number }>((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port: c.nginx.httpPort, path: '/healthz', agent: false, timeout: 60_000, headers: { host: `${slug}.${c.baseDomain}`, accept: 'application/json' } }, (res) => {
      const took = performance.now() - t0;
      res.resume();
      res.on('end', () => resolve({ ms: took, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', reject);
    req.end();
  });
  const rows: Array<{ what: string; samples: number[]; failures: number; target?: number }> = [];
  const run = async (what: string, before: () => Promise<void>, target?: number) => {
    const row = { what, samples: [] as number[], failures: 0, target };
    for (let i = 0; i < ROUNDS; i++) {
      await before();
      const r = await firstByte();
      if (r.status === 200) row.samples.push(r.ms);
      else row.failures++;
      await p.operations.settled();
    }
    rows.push(row);
  };
  const sleep = async (stop: boolean) => {
    const { operation } = await p.tenants.sleep(slug, { stop });
    const e = await operationEnd(p.events, operation.id);
    if (e.type !== 'operation.succeeded') throw new Error(`sleep failed: ${JSON.stringify(e.data)}`);
  };
  await run('awake (yardstick)', async () => {});
  await run('frozen → first byte', () => sleep(false), 100);
  await run('stopped → first byte', () => sleep(true), 1200);
  console.log(`\n${'what'.padEnd(24)} ${'n'.padStart(3)} ${'failed'.padStart(6)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'max'.padStart(10)}  target p50`);
  for (const r of rows) {
    console.log(`${r.what.padEnd(24)} ${String(r.samples.length).padStart(3)} ${String(r.failures).padStart(6)} ${ms(pct(r.samples, 50)).padStart(10)} ${ms(pct(r.samples, 95)).padStart(10)} ${ms(Math.max(...r.samples)).padStart(10)}  ${r.target ? `≤ ${r.target} ms: ${pct(r.samples, 50) <= r.target ? 'met' : 'NOT met'}` : ''}`);
  }
  console.log(`wake operations started by requests: ${p.waker.wakesStarted}; load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await tp.close();
}
