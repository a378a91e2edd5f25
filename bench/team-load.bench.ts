// A team's real load on N teams at once, measured by the product itself
// (issue 14; orchestrator/src/capacity-measure/measurement-runner.ts, what
// `berth capacity measure` runs): TEAMS load teams for SECONDS_PER_RUN
// seconds through nginx, on a platform at production settings
// (scripts/defaults.env, production's port range, the orchestrator's loops
// on); the host sampled each second, each team by the stats loop; then the
// capacity model's prediction. CHECK=1 checks it: the same load at the
// predicted count and at 1.25 times it, refined when the count breaks the
// limit (up to 3 rounds). Prints the report as the CLI does and keeps it as
// JSON under bench/results/. Asserts nothing; removes what it made.
// Yardstick in the same run: the same scenario on one team alone, first, so
// the cost of sharing the host shows.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { loadConfig } from '../orchestrator/src/config/config.js';
import { printReport } from '../orchestrator/src/cli/capacity.js';
import type { MeasureRequest, Measurement } from '../orchestrator/src/contract/index.js';

const TEAMS = Number(process.env.TEAMS ?? 8);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 60);
const request = (teams: number, check: boolean): MeasureRequest => ({
  teams,
  durationSeconds: SECONDS,
  check,
  ...(process.env.MEMBERS ? { members: Number(process.env.MEMBERS) } : {}),
  ...(process.env.THINK_MS ? { thinkMs: Number(process.env.THINK_MS) } : {})
});

// Production's port range (scripts/defaults.env), not a test's slice of it: every registered team holds a port.
const tp = await startTestPlatform('teamload', { portRange: loadConfig().portRange });
const p = tp.platform;
try {
  await p.startLoops();
  console.log(`team-load bench: ${TEAMS} teams for ${SECONDS} s${process.env.CHECK === '1' ? ', then the check' : ''} (one team alone first, the yardstick); host ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 20)} MB, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  const measure = async (req: MeasureRequest): Promise<Measurement> => {
    const started = await p.measurements.start(req);
    for (;;) {
      const m = await p.measurements.get(started.id);
      if (m.state !== 'running') return m;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const results = path.resolve(import.meta.dirname, 'results');
  await mkdir(results, { recursive: true });
  for (const [label, req] of [['one team alone (yardstick)', request(1, false)], [`${TEAMS} teams`, request(TEAMS, process.env.CHECK === '1')]] as const) {
    console.log(`\n== ${label}`);
    const m = await measure(req);
    printReport(m);
    const file = path.join(results, `team-load-${m.startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, JSON.stringify(m, null, 2));
    console.log(`report: ${path.relative(process.cwd(), file)}`);
  }
  console.log(`\nload average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await tp.close();
}
