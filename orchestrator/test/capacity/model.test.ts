// The capacity model on recorded samples: the team-load bench's run of 4
// teams on this host (2 CPUs, 24 GB; 5 members each at a 3 s think time),
// and variations of it that make each bound the one that decides.
import t from 'tap';
import { predict, refine, ModelInputError, type Measurement } from '../../src/capacity/model.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;
// bench/team-load.bench.ts, 2026-12-03: host CPU mean 6.8 % under 4 teams, 2.0 % idle;
// each team's app 64.9 MiB, storage 53.5 MiB, db 11.4 MiB at the end.
const recorded: Measurement = {
  teams: 4,
  host: { cpus: 2, memoryTotalBytes: 24 * GB },
  idle: { cpuBusy: 0.02, memoryAvailableBytes: 23 * GB, diskFreeBytes: 74 * GB },
  cpuBusy: [0.06, 0.07, 0.066, 0.07, 0.074],
  teamMemoryBytes: [129.8 * MB, 128.9 * MB, 131.0 * MB, 130.2 * MB],
  teamDiskBytes: 40 * MB,
  p95Ms: 18.8,
  errors: 0
};
const limits = { p95Ms: 500, cpuCeiling: 0.8, memoryReserveBytes: 2 * GB, diskReserveBytes: 2 * GB };

t.test('the recorded run: CPU decides, at 0.6 % of the host a team', async (t) => {
  const p = predict(recorded, limits);
  t.equal(p.awake.boundBy, 'cpu');
  t.ok(Math.abs(p.awake.cpuPerTeam - 0.012) < 1e-9, 'CPU a team: (6.8 % - 2 %) / 4');
  t.equal(p.awake.byCpu, 65, '(80 % - 2 %) / 1.2 %');
  t.equal(p.awake.byMemory, Math.floor((21 * GB) / (130.05 * MB)), 'memory above the reserve / the median team');
  t.equal(p.awake.count, 65);
  t.equal(p.asleep.frozen, Math.floor((21 * GB - 65 * 130.05 * MB) / (130.05 * MB)), 'frozen in the memory left');
  t.equal(p.asleep.stopped, Math.floor((72 * GB) / (40 * MB)), 'stopped on the disk above its reserve');
  t.equal(p.registered, p.awake.count + p.asleep.frozen + p.asleep.stopped);
  t.match(p.model.join('\n'), /awake under this load: 65 teams \(bound by cpu\)[\s\S]*1\.2 % a team[\s\S]*130 MB an awake team \(median of 4\)[\s\S]*within it[\s\S]*registered in all: \d+/);
});

t.test('a small host: memory decides', async (t) => {
  const p = predict({ ...recorded, idle: { ...recorded.idle, memoryAvailableBytes: 4 * GB } }, limits);
  t.equal(p.awake.boundBy, 'memory');
  t.equal(p.awake.count, Math.floor((2 * GB) / (130.05 * MB)));
  t.equal(p.asleep.frozen, 0, 'no memory left for frozen teams');
});

t.test('a run already past the limit at N predicts fewer than N', async (t) => {
  const slow = predict({ ...recorded, p95Ms: 900 }, limits);
  t.equal(slow.awake.count, 3);
  t.equal(slow.awake.boundBy, 'latency');
  t.match(slow.model.join('\n'), /broken, so fewer than 4/);
  const failing = predict({ ...recorded, errors: 2 }, limits);
  t.equal(failing.awake.count, 3, 'errors break it too');
  const heavy = predict({ ...recorded, cpuBusy: [0.9], p95Ms: 900 }, limits);
  t.ok(heavy.awake.count < 4, 'a bound below N stands as it is');
});

t.test('a load that does not show against the idle host bounds nothing by CPU', async (t) => {
  const p = predict({ ...recorded, cpuBusy: [0.01, 0.02] }, limits);
  t.equal(p.awake.byCpu, Number.POSITIVE_INFINITY);
  t.equal(p.awake.boundBy, 'memory');
  t.match(p.model.join('\n'), /no bound \(the load did not show/);
});

t.test('frozen teams that keep less than an awake one fit more', async (t) => {
  const p = predict({ ...recorded, frozenTeamMemoryBytes: 100 * MB }, limits);
  t.ok(p.asleep.frozen > predict(recorded, limits).asleep.frozen);
});

t.test('every registered team holds a port: the range bounds the total', async (t) => {
  const p = predict({ ...recorded, portsFree: 996 }, limits);
  t.equal(p.registered, 1000, '996 free and the 4 measured');
  t.match(p.model.at(-1), /bound by the port range: 996 ports free besides the 4 measured/);
  t.equal(predict({ ...recorded, portsFree: 10_000_000 }, limits).registered, predict(recorded, limits).registered, 'a wide range bounds nothing');
});

t.test('a measurement without samples is refused with why', async (t) => {
  t.throws(() => predict({ ...recorded, cpuBusy: [] }, limits), ModelInputError);
  t.throws(() => predict({ ...recorded, teamMemoryBytes: [] }, limits), ModelInputError);
  t.throws(() => predict({ ...recorded, teams: 0 }, limits), /at least one team/);
});

// berth capacity measure --teams 8 --minutes 1 --check on this host, 2026-12-03:
// 8 teams took 11.9 % of the host (generator out), 58 (the first prediction) 92.5 %, p95 2.1 s.
t.test('refine: a line through the runs\' CPU, below the count that broke the limit', async (t) => {
  const runs = [{ teams: 8, cpuBusy: 0.119, broken: false }, { teams: 58, cpuBusy: 0.925, broken: true }];
  const r = refine(runs, { cpuCeiling: 0.8 }, 153);
  t.equal(r.count, 50, 'where the fitted line meets 80 %');
  t.ok(Math.abs(r.slope - 0.01612) < 1e-4, `${r.slope} a team`);
  t.match(r.model, /^refined from 2 runs \(8 teams 11\.9 %, 58 teams 92\.5 % \(broken\)\): CPU ≈ -1\.0 % \+ 1\.6 % a team, the 80\.0 % ceiling at 50 teams, below the 58 that broke the limit, at most 153 by memory$/);
  t.equal(refine(runs, { cpuCeiling: 0.8 }, 20).count, 20, 'memory still bounds it');
  t.equal(refine([{ teams: 8, cpuBusy: 0.119, broken: false }, { teams: 40, cpuBusy: 0.5, broken: true }], { cpuCeiling: 0.8 }, 153).count, 39, 'never at or above a count that broke');
  t.equal(refine([{ teams: 10, cpuBusy: 0.2, broken: false }], { cpuCeiling: 0.8 }, 153).count, 40, 'one run: its CPU over its teams');
  t.throws(() => refine([], { cpuCeiling: 0.8 }, 1), ModelInputError);
});
