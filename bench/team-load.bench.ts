// A team's real load on N teams at once (issue 14 item 1; the measurement
// `berth capacity measure` will repeat): bench/scenarios/team-load.ts on
// TEAMS teams for SECONDS, through nginx, on a platform at production
// settings (scripts/defaults.env, the orchestrator's loops on). Samples the
// host's CPU (/proc/stat) and MemAvailable every second, and each container's
// memory at the end (docker stats); prints the scenario's latencies by kind
// (p50/p95/p99), its errors with their reasons, the live-update lag (a change
// until every other member's stream has it) and what it ran with.
// Asserts nothing; removes what it made.
// Yardstick in the same run: the same scenario on one team alone, before the
// N run, so the cost of sharing the host shows.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { operationEnd } from '../orchestrator/test/helpers/wait.js';
import { testSlug } from '../orchestrator/test/helpers/docker.js';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { diskFreeOf, readMemAvailable } from '../orchestrator/src/capacity/host.js';
import { loadConfig } from '../orchestrator/src/config/config.js';
import { DEFAULT_LIMITS, predict } from '../orchestrator/src/capacity/model.js';
import { DEFAULT_LOAD, LoadStats, percentile, prepareTeam, runTeam, type Edge, type TeamLoadOptions } from './scenarios/team-load.js';

const TEAMS = Number(process.env.TEAMS ?? 4);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 60);
const options: TeamLoadOptions = {
  ...DEFAULT_LOAD,
  members: Number(process.env.MEMBERS ?? DEFAULT_LOAD.members),
  thinkMs: Number(process.env.THINK_MS ?? DEFAULT_LOAD.thinkMs)
};
const run = promisify(execFile);
const MB = 1024 * 1024;

async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3]! + line[4]!;
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Host CPU (% of all CPUs) and MemAvailable, once a second, until stopped. */
function sampleHost(): { stop(): Promise<{ cpu: number[]; availableMb: number[] }> } {
  const cpu: number[] = [];
  const availableMb: number[] = [];
  let last: { busy: number; total: number } | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const now = await cpuTimes();
      if (last) cpu.push((100 * (now.busy - last.busy)) / Math.max(1, now.total - last.total));
      last = now;
      availableMb.push(((await readMemAvailable()) ?? 0) / MB);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return { stop: async () => ((stopped = true), await loop, { cpu, availableMb }) };
}

// Production's port range (scripts/defaults.env), not a test's slice of it: every registered team holds a port.
const tp = await startTestPlatform('teamload', { portRange: loadConfig().portRange });
const p = tp.platform;
const c = tp.config;
const edge: Edge = { port: c.nginx.httpPort, baseDomain: c.baseDomain };
try {
  await p.startLoops();
  console.log(`team-load bench: ${TEAMS} teams for ${SECONDS} s (and one team alone first, the yardstick); host ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / MB)} MB, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  console.log(`scenario: ${options.members} members a team, think time ${options.thinkMs} ms (exponential), mix ${JSON.stringify(options.mix)}, attachments ${options.attachmentBytes / 1024} KB`);
  console.log(`settings: ports ${c.portRange.from}-${c.portRange.to}, health ${c.health.intervalMs} ms, reconcile ${c.reconcileIntervalMs} ms, stats ${c.stats.intervalMs} ms, sleep policy ${c.sleep.intervalMs} ms (loops on), plan starter, app ${c.defaultAppVersion}`);

  const makeTeams = async (n: number, tag: string) => {
    const slugs = Array.from({ length: n }, () => testSlug(tag));
    for (const slug of slugs) {
      const made = await p.tenants.create({ slug, ownerEmail: `owner@${slug}.example` });
      const end = await operationEnd(p.events, made.operation.id);
      if (end.type !== 'operation.succeeded') throw new Error(`create of ${slug} failed: ${JSON.stringify(end)}`);
    }
    return Promise.all(slugs.map(async (slug) => ({ slug, setupUrl: (await p.tenantViews.ownerSetupUrl(slug))! })));
  };

  /** The host without the run's teams: CPU busy over 5 s, MemAvailable, free disk. */
  const idleHost = async () => {
    const sampler = sampleHost();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const { cpu, availableMb } = await sampler.stop();
    return { cpuBusy: cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length) / 100, memoryAvailableBytes: Math.min(...availableMb) * MB, diskFreeBytes: (await diskFreeOf(c.capacity.diskPath)()) ?? 0 };
  };
  const bytesOf = (usage: string) => {
    const m = /^([\d.]+)([KMG]i?B|B)$/.exec(usage);
    const unit: Record<string, number> = { B: 1, KiB: 1024, MiB: MB, GiB: 1024 * MB, KB: 1000, MB: 1e6, GB: 1e9 };
    return m ? Number(m[1]) * (unit[m[2]!] ?? 1) : NaN;
  };

  type Prepared = Awaited<ReturnType<typeof prepareTeam>>;
  const made = new Map<string, Prepared>();
  /** Each team's members are made once (the setup link works once); later runs reuse them. */
  const prepareAll = async (teams: { slug: string; setupUrl: string }[], stats: LoadStats) => Promise.all(teams.map(async (team) => {
    const known = made.get(team.slug);
    if (known) return known;
    const fresh = await prepareTeam(edge, team, options, stats);
    made.set(team.slug, fresh);
    return fresh;
  }));
  const measure = async (label: string, teams: { slug: string; setupUrl: string }[], idle?: Awaited<ReturnType<typeof idleHost>>) => {
    const stats = new LoadStats();
    const prepared = await prepareAll(teams, stats);
    const host = sampleHost();
    const stopAt = performance.now() + SECONDS * 1000;
    await Promise.all(prepared.map((team) => runTeam(edge, team, options, stats, stopAt)));
    const { cpu, availableMb } = await host.stop();
    const requests = stats.requests();
    console.log(`\n== ${label}: ${teams.length} team(s), ${requests.length} requests in ${SECONDS} s (${(requests.length / SECONDS).toFixed(1)}/s), ${stats.errorCount()} errors`);
    console.log(`${'kind'.padEnd(10)} ${'n'.padStart(6)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`);
    for (const [kind, xs] of [['all requests', requests] as const, ...[...stats.latencies].filter(([k]) => k !== 'setup')]) {
      const f = (x: number) => `${x.toFixed(1)}`.padStart(9);
      console.log(`${String(kind).padEnd(10)} ${String(xs.length).padStart(6)} ${f(percentile(xs, 50))} ${f(percentile(xs, 95))} ${f(percentile(xs, 99))} ${f(Math.max(...xs))}`);
    }
    for (const [why, n] of stats.errors) console.log(`error: ${why} ×${n}`);
    console.log(`host CPU (all CPUs) mean ${(cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length)).toFixed(1)} %, max ${Math.max(...cpu).toFixed(1)} %; MemAvailable min ${Math.min(...availableMb).toFixed(0)} MB`);
    const serviceOf = new Map<string, string>();
    for (const team of teams) {
      for (const s of p.stacks.specFor((await p.repo.get(team.slug))!).services) serviceOf.set(s.container.name, s.name);
    }
    const stats2 = (await run('docker', ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', ...serviceOf.keys()])).stdout.trim().split('\n');
    const byService = new Map<string, string[]>();
    const byTeam = new Map<string, number>();
    for (const line of stats2) {
      const [name, usage] = line.split(' ');
      const service = serviceOf.get(name!) ?? '?';
      byService.set(service, [...(byService.get(service) ?? []), usage!]);
      const team = teams.find((x) => name!.includes(x.slug))?.slug ?? '?';
      byTeam.set(team, (byTeam.get(team) ?? 0) + bytesOf(usage!));
    }
    for (const [service, usages] of byService) console.log(`memory per ${service} container at the end: ${usages.join(', ')}`);
    if (!idle) return undefined;
    // The teams' volumes on disk: what a stopped team keeps.
    let diskBytes = 0;
    for (const team of teams) {
      for (const v of p.stacks.specFor((await p.repo.get(team.slug))!).volumes) {
        const mount = (await run('docker', ['volume', 'inspect', '--format', '{{.Mountpoint}}', v.name])).stdout.trim();
        diskBytes += Number((await run('du', ['-sb', mount])).stdout.split('\t')[0]);
      }
    }
    const prediction = predict({
      teams: teams.length,
      host: { cpus: os.cpus().length, memoryTotalBytes: os.totalmem() },
      idle,
      cpuBusy: cpu.map((x) => x / 100),
      teamMemoryBytes: [...byTeam.values()],
      teamDiskBytes: diskBytes / teams.length,
      p95Ms: percentile(requests, 95),
      errors: stats.errorCount(),
      portsFree: c.portRange.to - c.portRange.from + 1 - (await p.repo.usedPorts()).size
    }, { ...DEFAULT_LIMITS, memoryReserveBytes: c.capacity.memoryReserveBytes, diskReserveBytes: c.capacity.diskReserveBytes });
    console.log(`\nprediction (orchestrator/src/capacity/model.ts; the host before these teams, the yardstick's one team idle: CPU ${(100 * idle.cpuBusy).toFixed(1)} %, ${Math.round(idle.memoryAvailableBytes / MB)} MB available):`);
    for (const line of prediction.model) console.log(`  ${line}`);
    return { prediction, p95: percentile(requests, 95), errors: stats.errorCount() };
  };

  await measure('one team alone (yardstick)', await makeTeams(1, 'tlone'));
  const idle = await idleHost();
  const measured = await measure(`${TEAMS} teams at once`, await makeTeams(TEAMS, 'tl'), idle);
  // CHECK=1: the prediction checked (issue 14 item 3): the same load at the
  // predicted awake count, and at 1.25 times it, with the same idle baseline.
  if (process.env.CHECK === '1' && measured) {
    const predicted = measured.prediction.awake.count;
    const over = Math.ceil(predicted * 1.25);
    console.log(`\n== the prediction checked: ${predicted} teams awake (predicted) and ${over} (1.25 times), the same load, ${SECONDS} s each`);
    const teams = await makeTeams(over, 'tlc');
    const at = await measure(`${predicted} teams (the prediction)`, teams.slice(0, predicted), idle);
    const above = await measure(`${over} teams (1.25 times the prediction)`, teams, idle);
    const verdict = (r: typeof at) => (r && r.p95 <= DEFAULT_LIMITS.p95Ms && r.errors === 0 ? 'within the limit' : 'broken');
    console.log(`\ncheck: at ${predicted}: p95 ${at?.p95.toFixed(0)} ms, ${at?.errors} errors: ${verdict(at)}; at ${over}: p95 ${above?.p95.toFixed(0)} ms, ${above?.errors} errors: ${verdict(above)} (limit p95 ${DEFAULT_LIMITS.p95Ms} ms, 0 errors)`);
  }
  console.log(`\nload average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await tp.close();
}
