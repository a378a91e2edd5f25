// What one Docker network costs a host that holds many (issue 13 item 8: the
// first limit on density). Every awake or frozen team holds two bridge
// networks (its internal one and its edge one); Docker 20.10 adds iptables
// rules for each, and every later network create or remove rewrites the
// tables. This bench adds filler networks made like a team's (half internal,
// half not, labelled as a bench's) in steps, and at each step times creating
// and removing one more network (what a team's create or wake pays), and
// counts the iptables lines. BENCH_NETWORKS="0,100,200,400" sets the steps.
// Measured 2026-12-03 (iptables-nft, 2 CPUs): create p50 59 ms with 5 networks,
// 81 ms with 105, 90 ms with 205, 139 ms with 407, 302 ms with 1,005 (5,548
// iptables lines); made 4 at a time, about 1 s each near 900.
// Prints what it ran with; asserts nothing; removes everything it made.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { runtime } from '../orchestrator/test/helpers/docker.js';

const run = promisify(execFile);
const STEPS = (process.env.BENCH_NETWORKS ?? '0,100,200,400').split(',').map(Number);
const PROBES = 5;
const CONCURRENCY = 4;
const tag = randomBytes(3).toString('hex');
const labels = { 'berth.bench': `network-scale-${tag}` };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

async function iptablesLines(): Promise<number> {
  const { stdout } = await run('iptables-save', [], { maxBuffer: 256 * 1024 * 1024 });
  return stdout.split('\n').length;
}

async function existing(): Promise<number> {
  const { stdout } = await run('docker', ['network', 'ls', '-q']);
  return stdout.trim().split('\n').filter(Boolean).length;
}

const fillers: string[] = [];
async function fillTo(count: number): Promise<void> {
  const todo = Array.from({ length: count - fillers.length }, (_, i) => `berth-bench-${tag}-${fillers.length + i}`);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < todo.length) {
      const name = todo[next++]!;
      await runtime.ensureNetwork({ name, labels, internal: fillers.length % 2 === 0 });
      fillers.push(name);
    }
  }));
}

console.log(`network-scale: steps ${STEPS.join(', ')} filler networks (half internal), ${PROBES} create+remove probes per step, fillers made ${CONCURRENCY} at a time; Docker ${(await run('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim()}, ${await existing()} networks on the host before`);
const rows: string[] = [];
try {
  for (const step of STEPS) {
    const t0 = Date.now();
    await fillTo(step);
    const fillMs = Date.now() - t0;
    const create: number[] = [];
    const remove: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const name = `berth-bench-${tag}-probe-${step}-${i}`;
      let t = performance.now();
      await runtime.ensureNetwork({ name, labels, internal: true });
      create.push(performance.now() - t);
      t = performance.now();
      await runtime.removeNetwork(name);
      remove.push(performance.now() - t);
    }
    const row = `${String(step).padStart(5)} fillers (${await existing()} on host, ${await iptablesLines()} iptables lines): create p50 ${pct(create, 50).toFixed(0)} ms max ${Math.max(...create).toFixed(0)} ms, remove p50 ${pct(remove, 50).toFixed(0)} ms; filling took ${(fillMs / 1000).toFixed(1)} s`;
    console.log(row);
    rows.push(row);
  }
} finally {
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < fillers.length) await runtime.removeNetwork(fillers[next++]!).catch((err: Error) => console.error(`not removed: ${err.message}`));
  }));
  console.log(`removed ${fillers.length} filler networks in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${await existing()} networks on the host now`);
}
