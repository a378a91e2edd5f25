// The capacity model (issue 14 item 2): from one measurement of N teams under
// a real team's load, how many teams this host holds awake under that load,
// and how many registered teams it holds when the idle ones sleep. Pure
// arithmetic on the samples, so it can be checked on recorded ones; the
// measurement itself (bench/team-load.bench.ts, later `berth capacity
// measure`) takes the samples, and a run at the predicted count checks it.
//
// The model, stated so a report can print it:
// - CPU: each awake team under the load costs the host the CPU the run added
//   over the idle host, divided by N. Awake teams fit while the host stays
//   under the CPU ceiling (default 80 % of all CPUs: past that, requests
//   queue and the tail grows faster than linearly).
// - Memory, awake: each awake team takes the memory its containers held at
//   the end of the run. Awake teams fit while MemAvailable stays above the
//   admission reserve.
// - Latency: when the run's p95 (or any error) already breaks the limit at
//   N, the host holds fewer than N: the prediction is capped at N - 1.
// - Asleep: a frozen team keeps its memory (paused, no CPU), a stopped one
//   holds none but its volumes on disk. The memory the awake teams leave
//   (above the reserve) holds frozen teams; disk holds the stopped ones.
// - Every registered team holds a host port: the port range bounds them all.
// The smallest bound wins, and the report says which.

export interface Measurement {
  /** Teams under load during the run. */
  teams: number;
  host: { cpus: number; memoryTotalBytes: number };
  /** The host before the load: CPU busy (0-1 of all CPUs) and MemAvailable. */
  idle: { cpuBusy: number; memoryAvailableBytes: number; diskFreeBytes: number };
  /** Each sample of the run: CPU busy (0-1 of all CPUs). */
  cpuBusy: readonly number[];
  /** Memory each awake team's containers held at the end of the run. */
  teamMemoryBytes: readonly number[];
  /** A frozen team's memory (its containers paused); default: an awake team's. */
  frozenTeamMemoryBytes?: number;
  /** A stopped team's volumes on disk. */
  teamDiskBytes: number;
  /** Host ports left for new teams (BERTH_PORT_RANGE less those taken): every registered team holds one. */
  portsFree?: number;
  p95Ms: number;
  errors: number;
}

export interface Limits {
  /** The p95 an operator accepts (default 500 ms). */
  p95Ms: number;
  /** The CPU the awake teams may take, of all CPUs (default 0.8). */
  cpuCeiling: number;
  /** Admission's memory reserve. */
  memoryReserveBytes: number;
  /** Admission's disk reserve. */
  diskReserveBytes: number;
}

export const DEFAULT_LIMITS: Omit<Limits, 'memoryReserveBytes' | 'diskReserveBytes'> = { p95Ms: 500, cpuCeiling: 0.8 };

export interface Prediction {
  awake: { count: number; boundBy: 'cpu' | 'memory' | 'latency'; cpuPerTeam: number; memoryPerTeamBytes: number; byCpu: number; byMemory: number };
  /** Frozen teams fit in the memory the awake ones leave; stopped ones on the disk. */
  asleep: { frozen: number; stopped: number };
  registered: number;
  /** The model in words, with the figures used: for the report. */
  model: string[];
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const mean = (xs: readonly number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A measurement the model cannot use says why, instead of predicting from nothing. */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

export function predict(m: Measurement, limits: Limits): Prediction {
  if (!(m.teams >= 1) || m.cpuBusy.length === 0 || m.teamMemoryBytes.length === 0) {
    throw new ModelInputError('the measurement needs at least one team, one CPU sample and one team\'s memory');
  }
  const cpuPerTeam = Math.max(0, mean(m.cpuBusy) - m.idle.cpuBusy) / m.teams;
  const memoryPerTeamBytes = median(m.teamMemoryBytes);
  const cpuRoom = limits.cpuCeiling - m.idle.cpuBusy;
  // A load too light to measure against the host's own noise bounds nothing by CPU.
  const byCpu = cpuPerTeam > 0 ? Math.max(0, Math.floor(cpuRoom / cpuPerTeam)) : Number.POSITIVE_INFINITY;
  const memoryRoom = m.idle.memoryAvailableBytes - limits.memoryReserveBytes;
  const byMemory = Math.max(0, Math.floor(memoryRoom / memoryPerTeamBytes));
  let count = Math.min(byCpu, byMemory);
  let boundBy: Prediction['awake']['boundBy'] = byCpu <= byMemory ? 'cpu' : 'memory';
  const broken = m.p95Ms > limits.p95Ms || m.errors > 0;
  if (broken && count >= m.teams) {
    count = m.teams - 1;
    boundBy = 'latency';
  }
  const frozenBytes = m.frozenTeamMemoryBytes ?? memoryPerTeamBytes;
  const frozen = Math.max(0, Math.floor((memoryRoom - count * memoryPerTeamBytes) / frozenBytes));
  const diskRoom = m.idle.diskFreeBytes - limits.diskReserveBytes;
  const stopped = m.teamDiskBytes > 0 ? Math.max(0, Math.floor(diskRoom / m.teamDiskBytes)) : Number.POSITIVE_INFINITY;
  const unbounded = count + frozen + stopped;
  const registered = m.portsFree === undefined ? unbounded : Math.min(unbounded, m.portsFree + m.teams);
  const model = [
    `awake under this load: ${count} teams (bound by ${boundBy})`,
    `  CPU: the run of ${m.teams} teams took ${pct(mean(m.cpuBusy))} of ${m.host.cpus} CPUs against ${pct(m.idle.cpuBusy)} idle: ${pct(cpuPerTeam)} a team; up to the ${pct(limits.cpuCeiling)} ceiling: ${Number.isFinite(byCpu) ? byCpu : 'no bound (the load did not show against the idle host)'}`,
    `  memory: ${mb(memoryPerTeamBytes)} an awake team (median of ${m.teamMemoryBytes.length}); ${mb(m.idle.memoryAvailableBytes)} available, ${mb(limits.memoryReserveBytes)} kept in reserve: ${byMemory}`,
    `  latency: p95 ${m.p95Ms.toFixed(0)} ms and ${m.errors} errors at ${m.teams} teams against a ${limits.p95Ms} ms limit: ${broken ? `broken, so fewer than ${m.teams}` : 'within it'}`,
    `asleep besides: ${frozen} frozen (${mb(frozenBytes)} each in the memory the awake ones leave) and ${Number.isFinite(stopped) ? stopped : 'unbounded'} stopped (${mb(m.teamDiskBytes)} of volumes each on ${mb(m.idle.diskFreeBytes)} free disk, ${mb(limits.diskReserveBytes)} reserve)`,
    `registered in all: ${Number.isFinite(registered) ? registered : 'unbounded by memory and disk'}${m.portsFree !== undefined && registered < unbounded ? ` (bound by the port range: ${m.portsFree} ports free besides the ${m.teams} measured)` : ''}`
  ];
  return { awake: { count, boundBy, cpuPerTeam, memoryPerTeamBytes, byCpu, byMemory }, asleep: { frozen, stopped }, registered, model };
}

/** One load run as the refinement sees it: how many teams, the host's mean CPU busy (the load generator taken out), and whether the run broke the limit. */
export interface RunPoint {
  teams: number;
  cpuBusy: number;
  broken: boolean;
}

/**
 * A prediction refined by the runs a check made: one run extrapolates a team's
 * CPU from N teams to many times N, and contention makes each team cost more
 * as the host fills (measured here: 1.3 % a team at 8 teams, 1.6 % at 58). A
 * line fitted through every run's (teams, CPU) by least squares gives the CPU
 * at the counts that matter; the awake count is where that line meets the
 * ceiling, below the smallest count that broke the limit, and never above the
 * memory bound. With a single run it is the single-run model's CPU bound.
 */
export function refine(points: readonly RunPoint[], limits: Pick<Limits, 'cpuCeiling'>, byMemory: number): { count: number; slope: number; intercept: number; model: string } {
  if (points.length === 0) throw new ModelInputError('refining needs at least one run');
  const n = points.length;
  const mx = mean(points.map((p) => p.teams));
  const my = mean(points.map((p) => p.cpuBusy));
  const sxx = points.reduce((s, p) => s + (p.teams - mx) ** 2, 0);
  // One distinct count: a line through the origin's idle share cannot be fitted, so each team costs the run's CPU over its teams.
  const slope = sxx > 0 ? points.reduce((s, p) => s + (p.teams - mx) * (p.cpuBusy - my), 0) / sxx : my / Math.max(1, mx);
  const intercept = sxx > 0 ? my - slope * mx : 0;
  let count = slope > 0 ? Math.max(0, Math.floor((limits.cpuCeiling - intercept) / slope)) : Number.POSITIVE_INFINITY;
  const brokenAt = Math.min(...points.filter((p) => p.broken).map((p) => p.teams));
  if (count >= brokenAt) count = brokenAt - 1;
  count = Math.min(count, byMemory);
  const runs = points.map((p) => `${p.teams} teams ${pct(p.cpuBusy)}${p.broken ? ' (broken)' : ''}`).join(', ');
  return {
    count,
    slope,
    intercept,
    model: `refined from ${n} run${n === 1 ? '' : 's'} (${runs}): CPU ≈ ${pct(intercept)} + ${pct(slope)} a team, the ${pct(limits.cpuCeiling)} ceiling at ${Number.isFinite(count) ? count : 'no bound'} teams${Number.isFinite(brokenAt) ? `, below the ${brokenAt} that broke the limit` : ''}, at most ${byMemory} by memory`
  };
}
