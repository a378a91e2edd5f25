// The measurement's arithmetic on recorded and crafted samples: the host's
// readings (/proc/stat, /proc/diskstats, hostile text included), a run's
// summary (the load generator taken out of the host's CPU, latency buckets,
// each team's disk I/O as a difference), and the check's counts and verdict.
import t from 'tap';
import { parseCpuTimes, parseDiskStats, type HostSample } from '../../src/capacity/host-sampler.js';
import { LoadStats } from '../../src/capacity/load/team-load.js';
import { checkCounts, checkVerdict, hostCpuWithoutGenerator, latencyOverTime, summarizeRun, verdictOf } from '../../src/capacity-measure/run-summary.js';
import type { MeasurementRun } from '../../src/contract/index.js';

t.test('/proc/stat and /proc/diskstats, and hostile text', async (t) => {
  t.same(parseCpuTimes('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5\n'), { busy: 150, total: 1000 }, 'idle and iowait are not busy');
  t.equal(parseCpuTimes('intr 1 2 3'), null, 'no cpu line');
  t.equal(parseCpuTimes(`cpu  ${'9'.repeat(1 << 20)}`), null, '1 MB of digits: no reading');
  t.equal(parseCpuTimes('cpu  a b c d e'), null, 'not numbers');
  const disks = new Set(['vda']);
  const text = [
    ' 254       0 vda 100 0 2000 0 50 0 4000 0 0 0 0',
    ' 254       1 vda1 100 0 2000 0 50 0 4000 0 0 0 0',
    '   7       0 loop0 9 0 9999 0 9 0 9999 0 0 0 0'
  ].join('\n');
  t.same(parseDiskStats(text, disks), { readBytes: 2000 * 512, writeBytes: 4000 * 512 }, 'whole disks only: no partition, no loop device');
  t.same(parseDiskStats('x'.repeat(1 << 20), disks), { readBytes: 0, writeBytes: 0 }, '1 MB of junk: nothing');
  t.same(parseDiskStats(' 254 0 vda 1 0 NaN 0 1 0 x', disks), { readBytes: 0, writeBytes: 0 }, 'not numbers are left out');
});

const sample = (t: number, cpuBusy: number, processCpu: number): HostSample => ({ t, cpuBusy, processCpu, memoryAvailableBytes: 10e9, diskReadBytesPerS: 0, diskWriteBytesPerS: 1000 });

t.test('the load generator is taken out of the host\'s CPU, never below 0', async (t) => {
  t.same(hostCpuWithoutGenerator([sample(1, 0.5, 0.15), sample(2, 0.1, 0.3), sample(3, 0.4, 0.02)], 0.05), [0.4, 0, 0.4]);
});

t.test('a run\'s summary: latency in 5 s buckets, each team\'s disk I/O during the run, errors by reason', async (t) => {
  const stats = new LoadStats();
  stats.timeline.push(
    { at: 0.5, kind: 'setup', ms: 900, ok: true },
    { at: 1, kind: 'reload', ms: 10, ok: true },
    { at: 2, kind: 'create', ms: 30, ok: true },
    { at: 6, kind: 'move', ms: 20, ok: true },
    { at: 7, kind: 'move', ms: 0, ok: false },
    { at: 7.5, kind: 'live', ms: 40, ok: true }
  );
  stats.latencies.set('reload', [10]).set('create', [30]).set('move', [20]).set('live', [40]);
  stats.errors.set('move: HTTP 500', 1);
  t.same(latencyOverTime(stats.timeline, 0), [
    { t: 0, n: 2, p50: 10, p95: 30, errors: 0 },
    { t: 5, n: 1, p50: 20, p95: 20, errors: 1 }
  ], 'the setup and the live lags are not requests');
  const run = summarizeRun({
    label: 'two teams', durationSeconds: 10, stats, loadFrom: 0, idleProcessCpu: 0.05,
    host: [sample(1, 0.5, 0.15), sample(2, 0.3, 0.05)],
    teams: new Map([
      ['a', { first: { cpuPercent: 0, memoryBytes: 1, blockReadBytes: 100, blockWriteBytes: 1000 }, reads: [{ cpuPercent: 10, memoryBytes: 5, blockReadBytes: 150, blockWriteBytes: 1500 }, { cpuPercent: 20, memoryBytes: 7, blockReadBytes: 200, blockWriteBytes: 4000 }] }],
      ['b', { reads: [] }]
    ])
  });
  t.match(run, { teams: 2, requests: 3, errors: 1, errorReasons: [{ reason: 'move: HTTP 500', count: 1 }], p50Ms: 20, p95Ms: 30, cpuBusy: 0.35, loadGeneratorCpu: 0.05 });
  t.same(run.perTeam, [
    { slug: 'a', samples: 2, cpuPercent: 15, memoryBytes: 7, blockReadBytes: 100, blockWriteBytes: 3000 },
    { slug: 'b', samples: 0, cpuPercent: 0, memoryBytes: 0, blockReadBytes: 0, blockWriteBytes: 0 }
  ], 'disk I/O is the difference over the run; a team never read says 0, not a guess');
  t.same(run.liveLag, { kind: 'live', n: 1, p50: 40, p95: 40, p99: 40, max: 40 });
});

t.test('the check: its counts, and a verdict in words', async (t) => {
  t.same(checkCounts(54), { predicted: 54, over: 68 });
  t.same(checkCounts(1), { predicted: 1, over: 2 }, 'at least one more');
  const run = (p95Ms: number | null, errors: number) => ({ p95Ms, errors }) as MeasurementRun;
  t.equal(verdictOf(run(499, 0), 500), 'within');
  t.equal(verdictOf(run(500, 0), 500), 'within', 'the limit itself is within');
  t.equal(verdictOf(run(100, 1), 500), 'broken', 'one error breaks it');
  t.equal(verdictOf(run(null, 0), 500), 'broken', 'no request answered');
  t.equal(verdictOf(undefined, 500), 'not run');
  const c = checkCounts(40);
  t.match(checkVerdict(c, run(300, 0), run(900, 0), 500), /^the prediction holds: within the limit at 40 teams, broken at 50; at 40: p95 300 ms, 0 errors; at 50: p95 900 ms/);
  t.match(checkVerdict(c, run(300, 0), run(400, 0), 500), /^the prediction is low: the host still held 50 teams/);
  t.match(checkVerdict(c, run(700, 0), run(900, 0), 500), /^the prediction is high: the host did not hold 40 teams/);
});
