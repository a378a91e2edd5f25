// berth capacity: the host's headroom now and how many more teams of each plan
// fit; `measure` measures how many this host holds under a real team's load,
// `report` shows a measurement's report.
import { parseArgs, wholeNumber } from './args.js';
import { bytesInWords, type CapacityView, type MeasureRequest, type Measurement, type MeasurementList } from './api-types.js';
import { CliExit, EXIT, fail, usageError } from './exit.js';
import { apiFromEnv, call, seg } from './http.js';
import { err, inline, json, out, table } from './output.js';

const HELP = `Usage: berth capacity [--json]
       berth capacity measure --teams N (--minutes M | --seconds S) [--members N] [--think-ms MS]
                              [--check] [--p95-ms MS] [--json] [--wait [--timeout S]]
       berth capacity report [ID] [--json]
       berth capacity list [--json]
       berth capacity cancel ID

berth capacity: the platform host's headroom now, as admission sees it: CPUs
and load, memory available of total, free disk for teams' volumes, the
reserves admission keeps (BERTH_CAPACITY_*_RESERVE_MB) and the room held by
starts under way; then per plan: what one team may take (its memory limits,
storage quota, CPUs), its teams that are up, frozen and down, the memory those
holding it may take, and how many more admission would start now (FITS).

measure: makes N load-test teams (load-<id>-<n>), has --members members use
each through nginx (the board's live updates open, items made, moved and
edited, attachments up and down, a pause of --think-ms on average between
actions) for the duration, samples the host (CPU, memory, disk I/O) and each
team's containers, then predicts how many teams this host holds awake under
that load and how many registered when the idle ones sleep. --check runs the
load again at the predicted count and at 1.25 times it, to show the prediction
within the --p95-ms limit (default 500) and then broken. The load teams are
removed at the end. One measurement at a time; an admin token. With --wait it
prints the phases and the report.

report: a measurement's summary (the last one without ID); the console's
Capacity page shows its plots.`;

const size = (bytes: number | null) => (bytes === null ? 'unknown' : bytesInWords(bytes));
const ms = (x: number | null) => (x === null ? '–' : `${x} ms`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export async function capacityMain(argv: readonly string[]): Promise<void> {
  const [sub] = argv;
  if (sub === 'measure') return measure(argv.slice(1));
  if (sub === 'report') return report(argv.slice(1));
  if (sub === 'list') return list(argv.slice(1));
  if (sub === 'cancel') return cancel(argv.slice(1));
  const a = parseArgs({ cmd: 'capacity', help: HELP, switches: ['--json'] }, argv);
  const body = await call<CapacityView>(apiFromEnv(), 'GET', '/api/v1/capacity');
  if (a.has('--json')) return json(body);
  const { host, reserve, starting } = body;
  out(table([
    ['CPUS', 'LOAD', 'MEMORY FREE', 'MEMORY TOTAL', 'DISK FREE', 'RESERVE (MEM/DISK)', 'STARTING'],
    [host.cpus, host.load1, size(host.memory.availableBytes), size(host.memory.totalBytes), `${size(host.disk.freeBytes)} (${host.disk.path})`,
      `${size(reserve.memoryBytes)} / ${size(reserve.diskBytes)}`, starting.count === 0 ? 0 : `${starting.count} (${size(starting.memoryBytes)})`]
  ]));
  out(table([
    ['TEMPLATE', 'PLAN', 'MEMORY', 'DISK', 'CPUS', 'UP', 'FROZEN', 'DOWN', 'RESERVED', 'FITS'],
    ...body.plans.map((p) => [p.template, p.plan, size(p.memoryBytes), size(p.diskBytes), p.cpus, p.teams.up, p.teams.frozen, p.teams.down, size(p.reservedMemoryBytes), p.fitsNow ?? 'unknown'])
  ]));
}

async function measure(argv: readonly string[]): Promise<void> {
  const cmd = 'capacity measure';
  const a = parseArgs({ cmd, help: HELP, values: ['--teams', '--minutes', '--seconds', '--members', '--think-ms', '--p95-ms'], switches: ['--check', '--json'], wait: true }, argv);
  const teams = a.get('--teams');
  if (teams === undefined) usageError('--teams N is needed: how many load teams to run at once', cmd);
  const minutes = a.get('--minutes');
  const seconds = a.get('--seconds');
  if ((minutes === undefined) === (seconds === undefined)) usageError('give the duration once: --minutes M or --seconds S', cmd);
  const body: MeasureRequest = {
    teams: wholeNumber('--teams', teams, cmd),
    durationSeconds: minutes !== undefined ? wholeNumber('--minutes', minutes, cmd) * 60 : wholeNumber('--seconds', seconds!, cmd),
    ...(a.has('--members') ? { members: wholeNumber('--members', a.get('--members')!, cmd) } : {}),
    ...(a.has('--think-ms') ? { thinkMs: wholeNumber('--think-ms', a.get('--think-ms')!, cmd) } : {}),
    ...(a.has('--p95-ms') ? { p95LimitMs: wholeNumber('--p95-ms', a.get('--p95-ms')!, cmd) } : {}),
    check: a.has('--check')
  };
  const api = apiFromEnv();
  let m = await call<Measurement>(api, 'POST', '/api/v1/capacity/measurements', body);
  if (!a.wait) {
    if (a.has('--json')) return json(m);
    return out(`measurement ${m.id} started: ${m.request.teams} load teams for ${m.request.durationSeconds} s${m.request.check ? ', then the check' : ''}; follow it with: berth capacity report ${m.id}`);
  }
  const deadline = Date.now() + a.timeoutS * 1000;
  let said = '';
  while (m.state === 'running') {
    if (m.phase !== said) err(`${new Date().toISOString().slice(11, 19)} ${inline(m.phase)}`), (said = m.phase);
    if (Date.now() > deadline) fail(EXIT.timeout, 'TIMEOUT', `gave up waiting after ${a.timeoutS} s; the measurement goes on: berth capacity report ${m.id}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    m = await call<Measurement>(api, 'GET', `/api/v1/capacity/measurements/${seg(m.id)}`);
  }
  if (a.has('--json')) json(m);
  else printReport(m);
  if (m.state !== 'succeeded') throw new CliExit(EXIT.opFailed);
}

async function report(argv: readonly string[]): Promise<void> {
  const a = parseArgs({ cmd: 'capacity report', help: HELP, switches: ['--json'], positional: '[ID]' }, argv.length === 0 || argv.every((x) => x.startsWith('-')) ? [...argv, '--', 'last'] : argv);
  const api = apiFromEnv();
  let id = a.pos;
  if (id === 'last') {
    const { measurements } = await call<MeasurementList>(api, 'GET', '/api/v1/capacity/measurements');
    if (measurements.length === 0) fail(EXIT.api, 'MEASUREMENT_NOT_FOUND', 'no measurement yet: start one with berth capacity measure --teams N --minutes M');
    id = measurements[0]!.id;
  }
  const m = await call<Measurement>(api, 'GET', `/api/v1/capacity/measurements/${seg(id)}`);
  if (a.has('--json')) return json(m);
  printReport(m);
}

async function list(argv: readonly string[]): Promise<void> {
  const a = parseArgs({ cmd: 'capacity list', help: HELP, switches: ['--json'] }, argv);
  const body = await call<MeasurementList>(apiFromEnv(), 'GET', '/api/v1/capacity/measurements');
  if (a.has('--json')) return json(body);
  out(table([['ID', 'STATE', 'STARTED', 'TEAMS', 'AWAKE', 'REGISTERED', 'PHASE'], ...body.measurements.map((m) => [m.id, m.state, m.startedAt, m.teams, m.awake ?? '–', m.registered ?? '–', inline(m.phase)])]));
}

async function cancel(argv: readonly string[]): Promise<void> {
  const a = parseArgs({ cmd: 'capacity cancel', help: HELP, positional: 'ID' }, argv);
  const m = await call<Measurement>(apiFromEnv(), 'POST', `/api/v1/capacity/measurements/${seg(a.pos)}/cancel`);
  out(`measurement ${m.id}: ${m.state}`);
}

/** A report for people: what it ran with, each run, the prediction and the check (the CLI's and the bench's). */
export function printReport(m: Measurement): void {
  out(`measurement ${m.id}: ${m.state}${m.error ? ` (${m.error.code}: ${inline(m.error.message)})` : ''}; started ${m.startedAt}, ended ${m.endedAt ?? '–'}`);
  const r = m.ranWith;
  out(`ran with: ${r.cpus} CPUs, ${size(r.memoryTotalBytes)}; plan ${r.template}/${r.plan}, app ${r.appVersion}; loops ${r.loops ? 'on' : 'off'} (health ${r.intervalsMs.health} ms, reconcile ${r.intervalsMs.reconcile} ms, stats ${r.intervalsMs.stats} ms, sleep ${r.intervalsMs.sleep} ms)`);
  out(`scenario: ${r.scenario}`);
  out(`load generator: ${r.loadGenerator}`);
  if (m.runs.length > 0) {
    out(table([
      ['RUN', 'TEAMS', 'REQUESTS', 'ERRORS', 'P50', 'P95', 'P99', 'HOST CPU', 'GENERATOR CPU', 'MEMORY AVAILABLE MIN'],
      ...m.runs.map((run) => {
        const avail = run.host.map((s) => s.memoryAvailableBytes).filter((x): x is number => x !== null);
        return [run.label, run.teams, run.requests, run.errors, ms(run.p50Ms), ms(run.p95Ms), ms(run.p99Ms), pct(run.cpuBusy), pct(run.loadGeneratorCpu), avail.length ? size(Math.min(...avail)) : 'unknown'];
      })
    ]));
    for (const run of m.runs) for (const e of run.errorReasons) out(`error in "${run.label}": ${inline(e.reason)} ×${e.count}`);
  }
  if (m.prediction) {
    out('prediction:');
    for (const line of m.prediction.model) out(`  ${inline(line)}`);
  }
  if (m.check) {
    for (const [i, r] of m.check.rounds.entries()) out(`check ${i + 1}: ${r.predicted} teams ${r.atPrediction}, ${r.over} teams ${r.aboveIt} (from ${inline(r.basis)})`);
    out(`check: ${inline(m.check.verdict)}`);
  }
}
