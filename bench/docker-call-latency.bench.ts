// How long the Docker engine takes to answer the calls an operation makes
// (exec probes, inspect, create/start/remove), under the host's real load, with
// no client deadline: the evidence behind the runtime-call deadlines
// (BERTH_RUNTIME_CALL_TIMEOUT_MS). Prints every call slower than 5 s, and the
// distribution per call kind. Touches only containers it makes (label
// berth.bench=docker-call-latency), removed at the end.
//   node --import tsx bench/docker-call-latency.bench.ts [seconds=300] [lanes=4]
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../orchestrator/src/config/config.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';

const seconds = Number(process.argv[2] ?? 300);
const lanes = Number(process.argv[3] ?? 4);
const config = loadConfig();
const runtime = new DockerRuntime(silentLogger, config.dockerSocket);
const id = randomBytes(3).toString('hex');
const labels = { 'berth.bench': 'docker-call-latency', 'berth.bench-run': id };
const network = `berth-bench-lat-${id}`;
const samples = new Map<string, number[]>();
const slow: string[] = [];

async function timed<T>(kind: string, work: () => Promise<T>): Promise<T> {
  const began = performance.now();
  try {
    return await work();
  } finally {
    const ms = performance.now() - began;
    (samples.get(kind) ?? samples.set(kind, []).get(kind)!).push(ms);
    if (ms > 5000) slow.push(`${new Date().toISOString()} ${kind} ${Math.round(ms)} ms`);
  }
}

async function lane(n: number, until: number): Promise<void> {
  const name = `berth-bench-lat-${id}-${n}`;
  let round = 0;
  while (Date.now() < until) {
    round++;
    await timed('create', () => runtime.createContainer({
      name, image: config.images.db, env: {}, labels, networks: [{ name: network, aliases: [`db${n}`] }], mounts: [],
      limits: { memoryBytes: 256 * 1024 ** 2, nanoCpus: 5e8, pids: 256 }, tmpfs: [{ target: '/tmp', sizeBytes: 16 * 1024 ** 2 }]
    }));
    await timed('start', () => runtime.startContainer(name));
    for (let i = 0; i < 20 && Date.now() < until; i++) {
      await timed('inspect', () => runtime.inspectContainer(name));
      await timed('exec-probe', () => runtime.exec(name, ['berth-probe', 'mongo', '127.0.0.1:27017'], 600_000)).catch(() => {});
    }
    // Every few rounds, exec while the container is being stopped: the case engines are known to hang on.
    if (round % 3 === 0) {
      await Promise.all([
        timed('stop', () => runtime.stopContainer(name, 2)),
        timed('exec-while-stopping', () => runtime.exec(name, ['berth-probe', 'mongo', '127.0.0.1:27017'], 600_000)).catch(() => {})
      ]);
    }
    await timed('remove', () => runtime.removeContainer(name));
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
console.log(`docker-call-latency: ${lanes} lanes for ${seconds} s, image ${config.images.db}, no client deadline`);
await runtime.ensureNetwork({ name: network, labels, internal: true });
try {
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: lanes }, (_, n) => lane(n, until)));
} finally {
  for (const c of await runtime.listContainers(labels)) await runtime.removeContainer(c.name);
  await runtime.removeNetwork(network);
}
console.log('kind                  calls    p50 ms    p99 ms    max ms');
for (const [kind, xs] of samples) {
  console.log(`${kind.padEnd(20)} ${String(xs.length).padStart(6)} ${pct(xs, 50).toFixed(0).padStart(9)} ${pct(xs, 99).toFixed(0).padStart(9)} ${Math.max(...xs).toFixed(0).padStart(9)}`);
}
console.log(`calls slower than 5 s: ${slow.length}`);
for (const line of slow) console.log(`  ${line}`);
