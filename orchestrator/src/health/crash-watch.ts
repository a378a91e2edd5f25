// Healing in seconds: the engine's event stream tells the instant a tenant
// container dies. Docker's own restart policy (on-failure, bounded) already
// restarts a process that crashed; it never restarts one stopped or killed
// through the engine (Docker 20.10: `docker kill` cancels the restart manager,
// tried by hand on this engine), nor one past its retries. So on every `die`
// of a service of a team that should run, the team is queued; its worker
// reads the fresh state (controller-runtime's rule: an id is queued, never a
// stale event) and has the operation runner start whatever is down. More
// than `crashLoopRestarts` deaths of one service within the window is a crash
// loop: the team is stopped and failed (CRASH_LOOP) instead. The stream is
// reopened from the last event seen when it drops. The monitor's periodic
// probe stays the backstop for "running but not working".
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { LABEL } from '../runtime/labels.js';
import type { ContainerDied, ContainerRuntime } from '../runtime/types.js';
import type { Operations } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantDoc } from '../tenants/tenant.types.js';

export interface CrashWatchOptions {
  platformId: string;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
  /** How long a team's worker waits for another operation on it to end before it lets go (the reconciler and the probe remain). */
  busyWaitMs: number;
  clock?: () => Date;
}

/** Reopening a dropped stream: quickly at first, at most this far apart. */
const RECONNECT_MAX_MS = 5000;
const BUSY_POLL_MS = 200;
const SEEN_MAX = 1000;
/** Phases in which a team's services should be up and the watcher may start them. */
const UP = new Set(['running', 'degraded']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CrashWatch {
  private running = false;
  private stopStream: (() => void) | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private generation = 0;
  private opened = false;
  private since: bigint | undefined;
  /** Events a reopened stream may replay (`since` is inclusive): each is counted once. */
  private readonly seen = new Set<string>();
  /** Deaths counted per "slug/service", newest last (ms since epoch). */
  private readonly deaths = new Map<string, number[]>();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** Judging deaths is async: tests and shutdown wait for it too. */
  private readonly judging = new Set<Promise<void>>();
  private readonly clock: () => Date;
  /** Times the stream was reopened after it dropped. */
  reconnects = 0;

  constructor(
    private readonly repo: TenantsRepository,
    private readonly runtime: ContainerRuntime,
    private readonly stacks: TenantStacks,
    private readonly operations: Operations,
    private readonly log: Logger,
    private readonly options: CrashWatchOptions
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Opens the stream; resolves once it is open (or, if the engine is away, once reconnecting is scheduled). */
  async start(): Promise<void> {
    this.running = true;
    await this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.reconnectTimer);
    this.stopStream?.();
    this.stopStream = undefined;
  }

  /** Resolves when every death seen so far was judged and every queued team handled. */
  async settled(): Promise<void> {
    while (this.judging.size > 0 || this.workers.size > 0) await Promise.allSettled([...this.judging, ...this.workers.values()]);
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    try {
      const stop = await this.runtime.watchDeaths(
        { [LABEL.managed]: 'true', [LABEL.platform]: this.options.platformId },
        this.since,
        (died) => this.onDied(died),
        (err) => this.onEnd(generation, err)
      );
      if (!this.running) return stop();
      this.stopStream = stop;
      if (this.opened) this.reconnects += 1;
      this.opened = true;
      this.attempt = 0;
      // Deaths the stream cannot tell: those while this process was not
      // running, and, after a drop, those a restarted engine no longer holds
      // (it replays from `since` only what it kept). One look at every team.
      await this.sweep().catch((err: Error) => this.log.warn({ err: err.message }, 'looking for dead tenant containers failed; the health probe remains'));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'container event stream not opened; trying again');
      this.reconnect();
    }
  }

  private onEnd(generation: number, err?: Error): void {
    // A stream replaced or stopped meanwhile says nothing about the current one.
    if (generation !== this.generation) return;
    this.stopStream = undefined;
    if (!this.running) return;
    this.log.warn({ err: err?.message }, 'container event stream dropped; reopening');
    this.reconnect();
  }

  private reconnect(): void {
    if (!this.running) return;
    const delay = Math.min(100 * 2 ** this.attempt, RECONNECT_MAX_MS);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private onDied(died: ContainerDied): void {
    const id = `${died.id}@${died.timeNano}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
    if (this.since === undefined || died.timeNano > this.since) this.since = died.timeNano;
    const slug = died.labels[LABEL.tenant];
    const service = died.labels[LABEL.service];
    if (!slug || !service) return;
    const judged = this.judge(slug, service, died.name)
      .catch((err: Error) => this.log.warn({ tenant: slug, service, err: err.message }, 'a container death was not judged'))
      .finally(() => this.judging.delete(judged));
    this.judging.add(judged);
  }

  /**
   * A death counts as a crash when the team should run, the container is its
   * service's current one, and no operation but a heal holds the team (a
   * stop, an upgrade's swap or a delete end containers on purpose).
   */
  private async judge(slug: string, service: string, container: string): Promise<void> {
    const doc = await this.repo.get(slug);
    if (!doc || !this.shouldRun(doc)) return;
    if (doc.operation && doc.operation.kind !== 'heal') return;
    const current = this.stacks.specFor(doc).services.find((s) => s.name === service)?.container.name;
    if (current !== container) return;
    const now = this.clock().getTime();
    const key = `${slug}/${service}`;
    const times = (this.deaths.get(key) ?? []).filter((at) => now - at < this.options.crashLoopWindowMs);
    times.push(now);
    this.deaths.set(key, times);
    this.log.info({ tenant: slug, service, deaths: times.length }, 'tenant container died');
    this.enqueue(slug);
  }

  private shouldRun(doc: TenantDoc): boolean {
    return doc.desired === 'running' && UP.has(doc.phase);
  }

  /** One worker per team; a death while it works runs it once more afterwards. */
  private enqueue(slug: string): void {
    if (this.workers.has(slug)) {
      this.again.add(slug);
      return;
    }
    const worker = this.work(slug)
      .catch((err: Error) => this.log.warn({ tenant: slug, err: err.message }, 'healing a crashed tenant failed'))
      .finally(() => {
        this.workers.delete(slug);
        if (this.again.delete(slug) && this.running) this.enqueue(slug);
      });
    this.workers.set(slug, worker);
  }

  private async work(slug: string): Promise<void> {
    const giveUpAt = Date.now() + this.options.busyWaitMs;
    for (;;) {
      // Stopped (shutdown): start no new operation.
      if (!this.running) return;
      const doc = await this.repo.get(slug);
      if (!doc || !this.shouldRun(doc)) {
        this.forget(slug);
        return;
      }
      if (doc.operation) {
        // Its end decides the phase; then look again.
        if (Date.now() > giveUpAt) return;
        await sleep(BUSY_POLL_MS);
        continue;
      }
      try {
        await this.act(doc);
        return;
      } catch (err) {
        // Another operation took the team between the read and the lock.
        if (!(err instanceof BerthError && err.code === 'OPERATION_CONFLICT') || Date.now() > giveUpAt) throw err;
      }
    }
  }

  private async act(doc: TenantDoc): Promise<void> {
    const spec = this.stacks.specFor(doc);
    const looping = this.crashLoop(doc._id, spec.services.map((s) => s.name));
    if (looping) {
      this.log.warn({ tenant: doc._id, ...looping }, 'crash loop: stopping the team');
      const { done } = await this.operations.failCrashLoop(doc, { ...looping, windowMs: this.options.crashLoopWindowMs });
      this.forget(doc._id);
      await done;
      return;
    }
    // Inspected, not listed: Docker publishes `die` before its list view
    // catches up (the list still said "running"), while inspect waits for the
    // container's own state. 'restarting': the engine's policy brings it
    // back; should it give up, its last death comes here again.
    const states = await Promise.all(spec.services.map(async (s) => (await this.runtime.inspectContainer(s.container.name))?.state));
    const down = spec.services.filter((_, i) => {
      const state = states[i];
      return state === undefined || state === 'exited' || state === 'created' || state === 'dead';
    });
    if (down.length === 0) return;
    const { done } = await this.operations.restartCrashed(doc, down.map((s) => s.name));
    await done;
  }

  /** The first service of the team with more deaths in the window than the bound allows. */
  private crashLoop(slug: string, services: string[]): { service: string; deaths: number } | undefined {
    const now = this.clock().getTime();
    for (const service of services) {
      const recent = (this.deaths.get(`${slug}/${service}`) ?? []).filter((at) => now - at < this.options.crashLoopWindowMs);
      if (recent.length > this.options.crashLoopRestarts) return { service, deaths: recent.length };
    }
    return undefined;
  }

  private forget(slug: string): void {
    for (const key of this.deaths.keys()) if (key.startsWith(`${slug}/`)) this.deaths.delete(key);
  }

  /** Every team with a service down is queued; its worker decides whether it should run. */
  private async sweep(): Promise<void> {
    const containers = await this.runtime.listContainers({ [LABEL.managed]: 'true', [LABEL.platform]: this.options.platformId });
    const down = new Set(containers.filter((c) => c.labels[LABEL.service] && (c.state === 'exited' || c.state === 'dead')).map((c) => c.labels[LABEL.tenant]!));
    for (const slug of down) this.enqueue(slug);
  }
}
