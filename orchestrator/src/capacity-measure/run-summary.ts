// What one load run saw, made into the report's shape: latencies by kind and
// over time, the host's samples with the load generator taken out, each
// team's containers; and the check's plan and verdict. Pure, so recorded runs
// can be checked without a host.
import type { HostSample } from '../capacity/host-sampler.js';
import { percentile, type LoadStats } from '../capacity/load/team-load.js';
import type { Prediction } from '../capacity/model.js';
import type { Measurement, MeasurementRun } from './measurement.schema.js';

/** One read of a team's containers (tenant.stats data). */
export interface TeamRead {
  cpuPercent: number;
  memoryBytes: number;
  blockReadBytes?: number;
  blockWriteBytes?: number;
}

const BUCKET_S = 5;
const round = (x: number, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
/** The mean, 0 for no values (a run with no sample reads as none). */
export const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function latencyOf(kind: string, xs: readonly number[]): MeasurementRun['latency'][number] {
  return { kind, n: xs.length, p50: round(percentile(xs, 50)), p95: round(percentile(xs, 95)), p99: round(percentile(xs, 99)), max: xs.length ? round(Math.max(...xs)) : null };
}

/** Requests (the setup and live-update lags left out) in 5-second buckets. */
export function latencyOverTime(timeline: LoadStats['timeline'], from: number): MeasurementRun['latencyOverTime'] {
  const buckets = new Map<number, { ms: number[]; errors: number }>();
  for (const r of timeline) {
    if (r.kind === 'setup' || r.kind === 'live' || r.at < from) continue;
    const key = Math.floor((r.at - from) / BUCKET_S);
    const b = buckets.get(key) ?? { ms: [], errors: 0 };
    if (r.ok) b.ms.push(r.ms);
    else b.errors++;
    buckets.set(key, b);
  }
  return [...buckets].sort(([a], [b]) => a - b).map(([key, b]) => ({ t: key * BUCKET_S, n: b.ms.length, p50: round(percentile(b.ms, 50)), p95: round(percentile(b.ms, 95)), errors: b.errors }));
}

/** The host's CPU with the load generator (this process above its idle rate) taken out, never below 0. */
export function hostCpuWithoutGenerator(host: readonly HostSample[], idleProcessCpu: number): number[] {
  return host.map((s) => Math.max(0, s.cpuBusy - Math.max(0, s.processCpu - idleProcessCpu)));
}

export function summarizeRun(input: {
  label: string;
  durationSeconds: number;
  stats: LoadStats;
  /** LoadStats' clock (seconds) when the load began: the setup before it is left out of the timeline. */
  loadFrom: number;
  host: readonly HostSample[];
  idleProcessCpu: number;
  /** Each team's reads during the run, in order; `first` is the read before the load (for disk I/O). */
  teams: ReadonlyMap<string, { first?: TeamRead; reads: TeamRead[] }>;
}): MeasurementRun {
  const { stats } = input;
  const requests = stats.requests();
  const cpu = hostCpuWithoutGenerator(input.host, input.idleProcessCpu);
  const generator = mean(input.host.map((s) => Math.max(0, s.processCpu - input.idleProcessCpu)));
  return {
    label: input.label,
    teams: input.teams.size,
    durationSeconds: input.durationSeconds,
    requests: requests.length,
    errors: stats.errorCount(),
    errorReasons: [...stats.errors].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count).slice(0, 20),
    p50Ms: round(percentile(requests, 50)),
    p95Ms: round(percentile(requests, 95)),
    p99Ms: round(percentile(requests, 99)),
    latency: [...stats.latencies].filter(([k]) => k !== 'live').map(([kind, xs]) => latencyOf(kind, xs)),
    liveLag: latencyOf('live', stats.latencies.get('live') ?? []),
    host: input.host.map((s) => ({ ...s, cpuBusy: round(s.cpuBusy, 4)!, processCpu: round(s.processCpu, 4)!, diskReadBytesPerS: Math.round(s.diskReadBytesPerS), diskWriteBytesPerS: Math.round(s.diskWriteBytesPerS) })),
    latencyOverTime: latencyOverTime(stats.timeline, input.loadFrom),
    perTeam: [...input.teams].map(([slug, { first, reads }]) => {
      const last = reads.at(-1);
      return {
        slug,
        samples: reads.length,
        cpuPercent: round(mean(reads.map((r) => r.cpuPercent)), 2) ?? 0,
        memoryBytes: last?.memoryBytes ?? 0,
        blockReadBytes: Math.max(0, (last?.blockReadBytes ?? 0) - (first?.blockReadBytes ?? last?.blockReadBytes ?? 0)),
        blockWriteBytes: Math.max(0, (last?.blockWriteBytes ?? 0) - (first?.blockWriteBytes ?? last?.blockWriteBytes ?? 0))
      };
    }),
    cpuBusy: round(mean(cpu), 4) ?? 0,
    loadGeneratorCpu: round(generator, 4) ?? 0
  };
}

/** The prediction as the report keeps it: an unbounded count is null. */
export function predictionView(p: Prediction): NonNullable<Measurement['prediction']> {
  const bounded = (n: number) => (Number.isFinite(n) ? n : null);
  return { awake: p.awake.count, boundBy: p.awake.boundBy, frozen: bounded(p.asleep.frozen), stopped: bounded(p.asleep.stopped), registered: bounded(p.registered), model: p.model };
}

/** The check's two counts: the prediction and 1.25 times it (at least one more); over `max`, the check cannot run. */
export function checkCounts(predicted: number): { predicted: number; over: number } {
  return { predicted, over: Math.max(predicted + 1, Math.ceil(predicted * 1.25)) };
}

export type Verdict = 'within' | 'broken' | 'not run';

export const verdictOf = (run: MeasurementRun | undefined, p95LimitMs: number): Verdict =>
  !run ? 'not run' : run.errors === 0 && run.p95Ms !== null && run.p95Ms <= p95LimitMs ? 'within' : 'broken';

/** How close the prediction was, in words: right when it holds at the count and breaks at 1.25 times it. */
export function checkVerdict(c: { predicted: number; over: number }, at: MeasurementRun | undefined, above: MeasurementRun | undefined, p95LimitMs: number): string {
  const a = verdictOf(at, p95LimitMs);
  const b = verdictOf(above, p95LimitMs);
  const said = (r: MeasurementRun | undefined) => (r ? `p95 ${r.p95Ms ?? '–'} ms, ${r.errors} errors` : 'not run');
  const figures = `at ${c.predicted}: ${said(at)}; at ${c.over}: ${said(above)} (limit p95 ${p95LimitMs} ms, 0 errors)`;
  if (a === 'within' && b === 'broken') return `the prediction holds: within the limit at ${c.predicted} teams, broken at ${c.over}; ${figures}`;
  if (a === 'within' && b === 'within') return `the prediction is low: the host still held ${c.over} teams; ${figures}`;
  if (a === 'broken') return `the prediction is high: the host did not hold ${c.predicted} teams; ${figures}`;
  return `the check did not run fully; ${figures}`;
}
