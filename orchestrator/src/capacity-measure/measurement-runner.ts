// `berth capacity measure`: the team-load scenario (capacity/load/team-load.ts)
// on N load-test teams at once, on this platform as it runs (its loops on,
// its settings), then the capacity model's prediction; with `check`, the same
// load again at the predicted awake count and at 1.25 times it.
//
// - One measurement at a time: two would each measure the other's load.
// - The load teams are real teams (created and deleted through the tenants
//   service, so admission asks for each); their slugs are written into the
//   report before each is made, so a restarted orchestrator removes what a
//   dead one left (recover()).
// - The load generator runs in this process: its CPU (this process above its
//   idle rate) is taken out of the host's, and the report says so.
// - Each team's containers are read by the stats loop (tenant.stats events, at
//   its production interval) and once more at each run's start and end.
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { BerthError } from '../errors.js';
import type { EventBus, BerthEvent } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { sampleHost, type HostSample } from '../capacity/host-sampler.js';
import type { DiskReader, MemoryReader } from '../capacity/host.js';
import { DEFAULT_LOAD, LoadStats, prepareTeam, runTeam, type Edge, type TeamLoadOptions } from '../capacity/load/team-load.js';
import { DEFAULT_LIMITS, predict, refine, type Prediction, type RunPoint } from '../capacity/model.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { TenantViews } from '../tenants/tenant-views.js';
import { MAX_MEASURE_TEAMS, type MeasureRequest, type Measurement, type MeasurementRun } from './measurement.schema.js';
import type { MeasurementsRepository } from './measurements.repository.js';
import { mapLimit } from '../stats/map-limit.js';
import { checkCounts, checkVerdict, hostCpuWithoutGenerator, mean, predictionView, summarizeRun, verdictOf, type TeamRead } from './run-summary.js';

export interface MeasurementRunnerDeps {
  repo: MeasurementsRepository;
  tenants: Pick<TenantsService, 'create' | 'delete'>;
  views: Pick<TenantViews, 'ownerSetupUrl'>;
  events: EventBus;
  /** A fresh read of one team's containers. */
  readTeam: (slug: string) => Promise<TeamRead>;
  /** Bytes the teams' volumes hold on disk. */
  teamsDiskBytes: (slugs: readonly string[]) => Promise<number>;
  /** Host ports still free for new teams. */
  portsFree: () => Promise<number>;
  edge: Edge;
  /** BERTH_TLS_MODE: the load speaks plain HTTP to nginx, which redirects every such request when TLS is on. */
  tlsMode: string;
  memory: MemoryReader;
  disk: DiskReader;
  reserve: () => { memoryReserveBytes: number; diskReserveBytes: number };
  ranWith: Omit<Measurement['ranWith'], 'cpus' | 'memoryTotalBytes' | 'scenario' | 'loadGenerator' | 'loops'>;
  loops: () => boolean;
  /** How long a team's create or delete may take. */
  operationMs: number;
  log: Logger;
  clock?: () => Date;
}

const IDLE_SECONDS = 5;
const PREPARE_CONCURRENCY = 8;
/** Checks of a refined prediction after the first broke the limit. */
const CHECK_ROUNDS = 3;

class Cancelled extends Error {}

export class MeasurementRunner {
  private current: { id: string; abort: AbortController; done: Promise<void> } | undefined;

  constructor(private readonly d: MeasurementRunnerDeps) {}

  private now(): string {
    return (this.d.clock?.() ?? new Date()).toISOString();
  }

  async init(): Promise<void> {
    await this.d.repo.init();
  }

  get(id: string): Promise<Measurement> {
    return this.d.repo.mustGet(id);
  }

  /** Newest first. */
  list(limit: number): Promise<Measurement[]> {
    return this.d.repo.list(limit);
  }

  /** A measurement a dead process left running is marked interrupted and its load teams are removed. */
  async recover(): Promise<void> {
    for (const m of await this.d.repo.running()) {
      if (this.current?.id === m.id) continue;
      this.d.log.warn({ measurement: m.id, teams: m.teams.length }, 'capacity measurement interrupted by a restart: removing its load teams');
      await this.removeTeams(m.teams);
      await this.d.repo.save({ ...m, state: 'interrupted', phase: 'interrupted by a restart of the orchestrator; its load teams were removed', endedAt: this.now(), error: { code: 'MEASUREMENT_FAILED', message: 'the orchestrator restarted during the measurement' } });
    }
  }

  async start(request: MeasureRequest): Promise<Measurement> {
    if (this.d.tlsMode !== 'off') {
      throw new BerthError('MEASUREMENT_UNSUPPORTED', `the measurement's load speaks plain HTTP to nginx, and with BERTH_TLS_MODE=${this.d.tlsMode} nginx redirects every such request to HTTPS: measure on a platform with BERTH_TLS_MODE=off`);
    }
    if (this.current || (await this.d.repo.running()).length > 0) {
      throw new BerthError('MEASUREMENT_RUNNING', `a capacity measurement is running (${this.current?.id ?? 'left by another process'}): wait for it to end or cancel it`);
    }
    const req = {
      teams: request.teams,
      durationSeconds: request.durationSeconds,
      members: request.members ?? DEFAULT_LOAD.members,
      thinkMs: request.thinkMs ?? DEFAULT_LOAD.thinkMs,
      check: request.check ?? false,
      p95LimitMs: request.p95LimitMs ?? DEFAULT_LIMITS.p95Ms
    };
    const options: TeamLoadOptions = { ...DEFAULT_LOAD, members: req.members, thinkMs: req.thinkMs };
    const m: Measurement = {
      id: randomUUID(),
      state: 'running',
      phase: 'starting',
      startedAt: this.now(),
      endedAt: null,
      error: null,
      request: req,
      ranWith: {
        ...this.d.ranWith,
        cpus: os.availableParallelism(),
        memoryTotalBytes: os.totalmem(),
        loops: this.d.loops(),
        scenario: `${options.members} members a team through nginx, each with the board's live updates open, acting every ${options.thinkMs} ms on average (exponential); mix ${Object.entries(options.mix).map(([k, v]) => `${k} ${v}`).join(', ')}; attachments ${Math.round(options.attachmentBytes / 1024)} KB`,
        loadGenerator: 'in the orchestrator process; its CPU (this process above its idle rate) is taken out of the host\'s CPU'
      },
      idle: null,
      runs: [],
      prediction: null,
      check: null,
      teams: []
    };
    await this.d.repo.insert(m);
    const abort = new AbortController();
    // Every member of every team waits on it between actions: thousands of listeners by design, none leaked.
    setMaxListeners(0, abort.signal);
    const done = this.run(m, options, abort.signal).finally(() => {
      this.current = undefined;
    });
    this.current = { id: m.id, abort, done };
    return m;
  }

  /**
   * Stops a running measurement: its load ends at once, then its teams are
   * removed (a few seconds each) before its report says cancelled; the answer
   * does not wait for that.
   */
  async cancel(id: string): Promise<Measurement> {
    const m = await this.d.repo.mustGet(id);
    if (this.current?.id === id) {
      this.current.abort.abort();
      return { ...(await this.d.repo.mustGet(id)), phase: 'cancelling: the load stops, then its teams are removed' };
    }
    if (m.state === 'running') {
      // Left by a process that is gone: nobody else will end it.
      await this.recover();
      return this.d.repo.mustGet(id);
    }
    return m;
  }

  /** Ends the running measurement (the platform is closing): its teams are removed. */
  async stop(): Promise<void> {
    const c = this.current;
    if (!c) return;
    c.abort.abort();
    await c.done;
  }

  private async save(m: Measurement, phase?: string): Promise<void> {
    if (phase) m.phase = phase;
    await this.d.repo.save(m);
    void this.d.events.publish({ type: 'capacity.measurement', data: { id: m.id, state: m.state, phase: m.phase } }, { store: false }).catch(() => undefined);
  }

  private async run(m: Measurement, options: TeamLoadOptions, signal: AbortSignal): Promise<void> {
    const check = () => {
      if (signal.aborted) throw new Cancelled('cancelled');
    };
    let ending: Pick<Measurement, 'state' | 'phase' | 'error'>;
    try {
      await this.save(m, `reading the idle host (${IDLE_SECONDS} s)`);
      const idleSamples = await this.sampleFor(IDLE_SECONDS * 1000, signal);
      check();
      const memoryAvailableBytes = Math.min(...idleSamples.map((s) => s.memoryAvailableBytes ?? Number.POSITIVE_INFINITY));
      m.idle = {
        cpuBusy: mean(idleSamples.map((s) => s.cpuBusy)),
        processCpu: mean(idleSamples.map((s) => s.processCpu)),
        memoryAvailableBytes: Number.isFinite(memoryAvailableBytes) ? memoryAvailableBytes : ((await this.d.memory()) ?? 0),
        diskFreeBytes: (await this.d.disk()) ?? 0
      };
      const tag = randomBytes(3).toString('hex');
      const prepared = new Map<string, Awaited<ReturnType<typeof prepareTeam>>>();
      const ensureTeams = async (n: number) => {
        for (let i = m.teams.length; i < n; i++) {
          check();
          const slug = `load-${tag}-${i + 1}`;
          m.teams.push(slug);
          await this.save(m, `making load team ${i + 1} of ${n}`);
          const made = await this.d.tenants.create({ slug, ownerEmail: `owner@${slug}.load.invalid` });
          const end = await this.operationEnd(made.operation.id);
          if (!end.ok) throw new BerthError(end.code === 'CAPACITY' ? 'CAPACITY' : 'MEASUREMENT_FAILED', `load team ${slug} was not made: ${end.message ?? end.code ?? 'failed'}`);
        }
        await this.save(m, `signing in ${options.members} members on each of ${n} teams`);
        const stats = new LoadStats();
        const missing = m.teams.slice(0, n).filter((slug) => !prepared.has(slug));
        await mapLimit(missing, PREPARE_CONCURRENCY, async (slug) => {
          check();
          const setupUrl = await this.d.views.ownerSetupUrl(slug);
          if (!setupUrl) throw new BerthError('MEASUREMENT_FAILED', `load team ${slug} has no owner setup link`);
          prepared.set(slug, await prepareTeam(this.d.edge, { slug, setupUrl }, options, stats));
        });
      };
      const loadRun = async (label: string, n: number): Promise<MeasurementRun> => {
        await ensureTeams(n);
        const slugs = m.teams.slice(0, n);
        await this.save(m, `${label}: ${n} teams under load for ${m.request.durationSeconds} s`);
        const run = await this.loadRun(label, slugs.map((s) => prepared.get(s)!), options, m, signal);
        m.runs.push(run);
        await this.save(m);
        return run;
      };

      const first = await loadRun(`${m.request.teams} teams`, m.request.teams);
      check();
      const prediction = predict({
        teams: first.teams,
        host: { cpus: m.ranWith.cpus, memoryTotalBytes: m.ranWith.memoryTotalBytes },
        idle: m.idle,
        cpuBusy: hostCpuWithoutGenerator(first.host, m.idle.processCpu),
        teamMemoryBytes: first.perTeam.map((t) => t.memoryBytes).filter((b) => b > 0),
        teamDiskBytes: (await this.d.teamsDiskBytes(m.teams)) / Math.max(1, m.teams.length),
        portsFree: await this.d.portsFree(),
        p95Ms: first.p95Ms ?? Number.POSITIVE_INFINITY,
        errors: first.errors
      }, { ...DEFAULT_LIMITS, p95Ms: m.request.p95LimitMs, ...this.d.reserve() });
      m.prediction = predictionView(prediction);
      await this.save(m, `predicted: ${prediction.awake.count} teams awake under this load (bound by ${prediction.awake.boundBy})`);

      if (m.request.check) m.check = await this.check(m, first, prediction, loadRun);
      ending = { state: 'succeeded', phase: 'done', error: null };
    } catch (err) {
      const cancelled = signal.aborted;
      ending = cancelled
        ? { state: 'cancelled', phase: 'cancelled', error: null }
        : { state: 'failed', phase: 'failed', error: { code: err instanceof BerthError ? err.code : 'MEASUREMENT_FAILED', message: (err as Error).message } };
      if (!cancelled) this.d.log.warn({ measurement: m.id, err: (err as Error).message }, 'capacity measurement failed');
    }
    // Running until its teams are gone: whoever waits for the end (--wait, the console) sees the host as it was before.
    try {
      await this.save(m, `removing ${m.teams.length} load teams`);
      const left = await this.removeTeams(m.teams);
      if (left.length > 0) ending.error ??= { code: 'MEASUREMENT_FAILED', message: `load teams not removed: ${left.join(', ')}; delete them with berth tenant delete` };
    } finally {
      Object.assign(m, ending, { endedAt: this.now() });
      await this.save(m).catch((err: Error) => this.d.log.error({ measurement: m.id, err: err.message }, 'capacity measurement report not saved'));
    }
  }

  /**
   * The prediction checked: a run at the predicted count, and when it holds a
   * run at 1.25 times it. A count that breaks the limit is refined from every
   * run so far (a line through their CPU, capacity/model.ts refine) and
   * checked again, at most CHECK_ROUNDS times; the report keeps every round.
   */
  private async check(m: Measurement, first: MeasurementRun, prediction: Prediction, loadRun: (label: string, n: number) => Promise<MeasurementRun>): Promise<NonNullable<Measurement['check']>> {
    const limit = m.request.p95LimitMs;
    const points: RunPoint[] = [{ teams: first.teams, cpuBusy: first.cpuBusy, broken: verdictOf(first, limit) === 'broken' }];
    const rounds: NonNullable<Measurement['check']>['rounds'] = [];
    let predicted = prediction.awake.count;
    let basis = `the prediction from the first run (${first.teams} teams)`;
    let at: MeasurementRun | undefined;
    let above: MeasurementRun | undefined;
    for (let round = 1; round <= CHECK_ROUNDS; round++) {
      const counts = checkCounts(predicted);
      if (counts.predicted < 1 || counts.over > MAX_MEASURE_TEAMS) {
        rounds.push({ ...counts, basis: `${basis}; not run: the check runs between 1 and ${MAX_MEASURE_TEAMS} teams`, atPrediction: 'not run', aboveIt: 'not run' });
        at = above = undefined;
        break;
      }
      at = await loadRun(`check ${round}: at the prediction (${counts.predicted})`, counts.predicted);
      above = undefined;
      points.push({ teams: at.teams, cpuBusy: at.cpuBusy, broken: verdictOf(at, limit) === 'broken' });
      if (verdictOf(at, limit) === 'within') {
        above = await loadRun(`check ${round}: at 1.25 times it (${counts.over})`, counts.over);
        rounds.push({ ...counts, basis, atPrediction: 'within', aboveIt: verdictOf(above, limit) });
        break;
      }
      rounds.push({ ...counts, basis, atPrediction: 'broken', aboveIt: 'not run' });
      const refined = refine(points, { cpuCeiling: DEFAULT_LIMITS.cpuCeiling }, prediction.awake.byMemory);
      // No smaller count to try: the rounds say what broke.
      if (refined.count < 1 || refined.count >= predicted || round === CHECK_ROUNDS) break;
      predicted = refined.count;
      basis = refined.model;
      await this.save(m, `check ${round} broke the limit at ${counts.predicted} teams; refined: ${predicted}`);
    }
    const last = rounds.at(-1)!;
    const earlier = rounds.slice(0, -1).map((r) => `${r.predicted} broke the limit`).join(', ');
    const verdict = checkVerdict(last, at, above, limit);
    return {
      predicted: last.predicted,
      over: last.over,
      atPrediction: last.atPrediction,
      aboveIt: last.aboveIt,
      rounds,
      verdict: rounds.length > 1 ? `first prediction ${rounds[0]!.predicted} was high (${earlier}); refined from the runs to ${last.predicted}: ${verdict}` : verdict
    };
  }

  /** One run: the teams' members for the duration, the host sampled each second, each team read by the stats loop. */
  private async loadRun(label: string, teams: Awaited<ReturnType<typeof prepareTeam>>[], options: TeamLoadOptions, m: Measurement, signal: AbortSignal): Promise<MeasurementRun> {
    const slugs = new Set(teams.map((t) => t.http.slug));
    const reads = new Map<string, { first?: TeamRead; reads: TeamRead[] }>([...slugs].map((s) => [s, { reads: [] }]));
    await mapLimit([...slugs], PREPARE_CONCURRENCY, async (slug) => {
      reads.get(slug)!.first = await this.d.readTeam(slug).catch(() => undefined);
    });
    const listen = this.d.events.subscribe((e: BerthEvent) => {
      if (e.type !== 'tenant.stats' || !e.tenant || !slugs.has(e.tenant)) return;
      reads.get(e.tenant)!.reads.push(e.data as unknown as TeamRead);
    });
    const stats = new LoadStats();
    const loadFrom = stats.elapsed();
    const sampler = await sampleHost({ cpus: m.ranWith.cpus, memory: this.d.memory });
    const stopAt = performance.now() + m.request.durationSeconds * 1000;
    try {
      await Promise.all(teams.map((team) => runTeam(this.d.edge, team, options, stats, stopAt, signal)));
    } finally {
      listen();
    }
    const host = await sampler.stop();
    if (signal.aborted) throw new Cancelled('cancelled');
    await mapLimit([...slugs], PREPARE_CONCURRENCY, async (slug) => {
      const last = await this.d.readTeam(slug).catch(() => undefined);
      if (last) reads.get(slug)!.reads.push(last);
    });
    return summarizeRun({ label, durationSeconds: m.request.durationSeconds, stats, loadFrom, host, idleProcessCpu: m.idle?.processCpu ?? 0, teams: reads });
  }

  private async sampleFor(ms: number, signal: AbortSignal): Promise<HostSample[]> {
    const sampler = await sampleHost({ cpus: os.availableParallelism(), memory: this.d.memory });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    return sampler.stop();
  }

  /** Deletes the teams with their data, one after another; gives the slugs it could not remove. */
  private async removeTeams(slugs: readonly string[]): Promise<string[]> {
    const left: string[] = [];
    for (const slug of slugs) {
      try {
        const { operation } = await this.d.tenants.delete(slug, { deleteData: true, confirm: slug });
        const end = await this.operationEnd(operation.id);
        if (!end.ok) left.push(slug);
      } catch (err) {
        // A team never made (its create was refused) is not there to delete.
        if (!(err instanceof BerthError && err.code === 'TENANT_NOT_FOUND')) {
          left.push(slug);
          this.d.log.warn({ tenant: slug, err: (err as Error).message }, 'load team not removed');
        }
      }
    }
    return left;
  }

  /** How the operation ended, read from its end event (from the stored history when it already ended); not ok after the operation deadline. */
  private operationEnd(operation: string): Promise<{ ok: boolean; code?: string; message?: string }> {
    return new Promise((resolve) => {
      const isEnd = (e: BerthEvent) => e.operation === operation && (e.type === 'operation.succeeded' || e.type === 'operation.failed');
      const finish = (e: BerthEvent) => {
        clearTimeout(timer);
        unsubscribe();
        const data = (e.data ?? {}) as { code?: string; message?: string };
        resolve({ ok: e.type === 'operation.succeeded', code: data.code, message: data.message });
      };
      const timer = setTimeout(() => {
        unsubscribe();
        resolve({ ok: false, code: 'MEASUREMENT_FAILED', message: `operation ${operation} did not end within ${this.d.operationMs} ms` });
      }, this.d.operationMs + 5000);
      const unsubscribe = this.d.events.subscribe((e) => isEnd(e) && finish(e));
      void this.d.events.history({ operation }).then((past) => {
        const end = past.find(isEnd);
        if (end) finish(end);
      }).catch(() => undefined);
    });
  }
}

