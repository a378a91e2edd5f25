// Keeps one nginx route file per tenant in routesDir and nginx serving them.
// Changes are batched (one `nginx -t` and one reload for a burst), applied one
// batch at a time, swapped in atomically, and rolled back file by file when
// nginx refuses them, so the configuration on disk always passes `nginx -t`
// and nginx is only ever reloaded, never restarted.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT_DIR } from '../config/config.js';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { reload, retiredWorkers, runningMasterPid, testConfig, workerProcesses, type NginxTarget } from './nginx-control.js';
import { RouteFiles, type Backup } from './route-files.js';
import { assertRouteSlug, renderRoute, routeRevision, type RouteSpec } from './route-render.js';
import { waitForRoute } from './route-probe.js';

export interface RouteManagerOptions {
  nginxBin: string;
  prefix: string;
  confFile: string;
  routesDir: string;
  httpPort: number;
  baseDomain: string;
  log: Logger;
  /** Changes arriving within this window share one test and one reload. */
  batchWindowMs?: number;
  /** How long a change may take to show after its reload. */
  probeTimeoutMs?: number;
  /** Where the master writes its pid; the main nginx.conf puts it at <prefix>/nginx.pid. */
  pidFile?: string;
  templateFile?: string;
  /** Limit for one run of the nginx binary. */
  nginxTimeoutMs?: number;
}

export interface RouteStats {
  /** Successful reloads. */
  reloads: number;
  /** Batches nginx refused (-t) or did not reload. */
  reloadFailures: number;
  /** Wall time of the last successful batch: first `nginx -t` until the old workers stopped accepting. */
  lastReloadMs: number;
  totalReloadMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One route's next content (null: remove it) and everyone waiting on it. */
interface Pending {
  slug: string;
  text: string | null;
  waiters: Waiter[];
}

/** A failure of the batch as a whole, as seen by one of its routes ('' for resync callers). */
function batchError(slug: string, message: string, nginx?: string, cause?: unknown): BerthError {
  return new BerthError('PROXY_RELOAD_FAILED', slug ? `route for ${slug} not applied: ${message}` : message, { slug, nginx }, { cause });
}

export class RouteManager {
  private readonly o: Required<Omit<RouteManagerOptions, 'log'>>;
  private readonly log: Logger;
  private readonly nginx: NginxTarget;
  private readonly files: RouteFiles;
  private readonly pending = new Map<string, Pending>();
  /** resync() callers: they need a reload even when nothing changed. */
  private forced: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Batches run one after another: never two tests or reloads at once. */
  private chain: Promise<void> = Promise.resolve();
  /** The newest change per slug, so a probe stops when a later change took over. */
  private readonly latest = new Map<string, number>();
  private seq = 0;
  private template$: Promise<string> | undefined;
  private readonly counters: RouteStats = { reloads: 0, reloadFailures: 0, lastReloadMs: 0, totalReloadMs: 0 };

  constructor(options: RouteManagerOptions) {
    const { log, ...o } = options;
    this.log = log;
    this.o = {
      ...o,
      batchWindowMs: o.batchWindowMs ?? 100,
      probeTimeoutMs: o.probeTimeoutMs ?? 3000,
      pidFile: o.pidFile ?? path.join(o.prefix, 'nginx.pid'),
      templateFile: o.templateFile ?? path.join(ROOT_DIR, 'proxy-config/route.conf'),
      nginxTimeoutMs: o.nginxTimeoutMs ?? 15_000
    };
    this.files = new RouteFiles(this.o.routesDir);
    this.nginx = { bin: this.o.nginxBin, prefix: this.o.prefix, confFile: this.o.confFile, timeoutMs: this.o.nginxTimeoutMs };
  }

  /** Serves `route` at <slug>.<baseDomain>; resolves once nginx answers with it. */
  async setRoute(slug: string, route: RouteSpec): Promise<void> {
    return this.submit(slug, await this.render(slug, route));
  }

  /** The host falls back to the default server ("No team lives at this address."). */
  async removeRoute(slug: string): Promise<void> {
    assertRouteSlug(slug);
    return this.submit(slug, null);
  }

  /**
   * Puts any text in place as <slug>.conf, through the same batch, test and
   * rollback as setRoute. For tests (a deliberately broken route) and repairs.
   */
  async applyRaw(slug: string, text: string): Promise<void> {
    assertRouteSlug(slug);
    return this.submit(slug, text);
  }

  /** Tests and reloads even with no change, e.g. at boot after a crash between a swap and its reload. */
  resync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.forced.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Slugs that have a route file. */
  async listRoutes(): Promise<string[]> {
    return this.files.list();
  }

  /** The route file's text, or null when the slug has none. */
  async routeFor(slug: string): Promise<string | null> {
    assertRouteSlug(slug);
    return (await this.files.read(slug))?.toString('utf8') ?? null;
  }

  /** Whether the file on disk is exactly what `desired` renders to (false: stale or missing). */
  async isCurrent(slug: string, desired: RouteSpec): Promise<boolean> {
    return (await this.routeFor(slug)) === (await this.render(slug, desired));
  }

  stats(): RouteStats {
    return { ...this.counters };
  }

  private async render(slug: string, route: RouteSpec): Promise<string> {
    this.template$ ??= readFile(this.o.templateFile, 'utf8');
    return renderRoute(await this.template$, { slug, baseDomain: this.o.baseDomain, httpPort: this.o.httpPort, route });
  }

  private async submit(slug: string, text: string | null): Promise<void> {
    const seq = ++this.seq;
    this.latest.set(slug, seq);
    await new Promise<void>((resolve, reject) => {
      // A newer change of the same slug in the same window replaces the older
      // one: last write wins, and both callers learn the outcome.
      const entry = this.pending.get(slug) ?? { slug, text, waiters: [] };
      entry.text = text;
      entry.waiters.push({ resolve, reject });
      this.pending.set(slug, entry);
      this.schedule();
    });
    const host = `${slug}.${this.o.baseDomain}`;
    const revision = text === null ? undefined : routeRevision(text);
    const problem = await waitForRoute({
      port: this.o.httpPort,
      host,
      timeoutMs: this.o.probeTimeoutMs,
      accept: (seen) => (text === null ? seen.route !== slug : seen.route === slug && (!revision || seen.revision === revision)),
      superseded: () => this.latest.get(slug) !== seq
    });
    if (problem !== undefined) {
      const what = text === null ? `still answers as tenant ${slug}'s route` : `does not answer with tenant ${slug}'s new route`;
      throw new BerthError('PROXY_PROBE_FAILED', `after the reload, ${host} ${what} within ${this.o.probeTimeoutMs} ms (last: ${problem})`, { slug });
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // The batch is taken when its turn comes, so changes that arrive while
      // an earlier batch reloads join this one.
      this.chain = this.chain.then(() => this.runBatch());
    }, this.o.batchWindowMs);
  }

  private async runBatch(): Promise<void> {
    const batch = [...this.pending.values()];
    const forced = this.forced;
    this.pending.clear();
    this.forced = [];
    if (batch.length === 0 && forced.length === 0) return;
    const backups = new Map<string, Backup>();
    let errors: Map<string, BerthError>;
    try {
      errors = await this.apply(batch, backups, forced.length > 0);
    } catch (err) {
      // Disk or spawn trouble mid-batch: put back what we touched, then report.
      this.log.error({ err, routes: [...backups.keys()] }, 'route batch failed; restoring the previous files');
      await this.files.restoreAll(backups).catch((e: unknown) => this.log.error({ err: e }, 'restoring route files failed'));
      errors = new Map(['', ...batch.map((p) => p.slug)].map((slug) => [slug, batchError(slug, (err as Error).message, undefined, err)]));
    }
    for (const p of batch) {
      const err = errors.get(p.slug);
      for (const w of p.waiters) (err ? w.reject(err) : w.resolve());
    }
    const forcedErr = errors.get('');
    for (const w of forced) (forcedErr ? w.reject(forcedErr) : w.resolve());
  }

  /** Swap, test, fall back one by one, reload. Returns the errors by slug ('' for the batch as a whole). */
  private async apply(batch: Pending[], backups: Map<string, Backup>, force: boolean): Promise<Map<string, BerthError>> {
    const errors = new Map<string, BerthError>();
    const failAll = (message: string, nginx?: string) => {
      for (const slug of ['', ...batch.map((p) => p.slug)]) errors.set(slug, batchError(slug, message, nginx));
      return errors;
    };
    const master = await runningMasterPid(this.o.pidFile);
    if (master === null) {
      const msg = `nginx is not running (no live master pid in ${this.o.pidFile}); route files left unchanged`;
      this.log.error({ routes: batch.map((p) => p.slug) }, msg);
      return failAll(msg);
    }
    await this.files.prepare();
    for (const p of batch) {
      backups.set(p.slug, await this.files.read(p.slug));
      await this.files.put(p.slug, p.text);
    }
    await this.files.sync();

    const started = performance.now();
    let good = batch;
    const test = await testConfig(this.nginx);
    // e.g. "conflicting server name": nginx still loads, but an operator should know.
    if (test.ok && test.output.includes('[warn]')) this.log.warn({ nginx: test.output }, 'nginx -t passed with warnings');
    if (!test.ok) {
      this.counters.reloadFailures++;
      this.log.warn({ routes: batch.map((p) => p.slug), nginx: test.output }, 'nginx -t refused a route batch; restoring it, then trying each change alone');
      await this.files.restoreAll(backups);
      backups.clear();
      if (test.reason !== 'failed') return failAll(`nginx -t did not run: ${test.output}`, test.output);
      // Tell "this change is bad" from "the files already there are bad".
      const baseline = await testConfig(this.nginx);
      if (!baseline.ok) return failAll(`the route files on disk fail nginx -t even without this change: ${baseline.output}`, baseline.output);
      good = [];
      for (const p of batch) {
        let output = test.output;
        if (batch.length > 1) {
          const previous = await this.files.read(p.slug);
          await this.files.put(p.slug, p.text);
          const alone = await testConfig(this.nginx);
          if (alone.ok) {
            backups.set(p.slug, previous);
            good.push(p);
            continue;
          }
          output = alone.output;
          await this.files.put(p.slug, previous);
        }
        this.log.warn({ slug: p.slug, nginx: output }, 'route refused by nginx -t; previous file kept');
        errors.set(p.slug, new BerthError('ROUTE_INVALID', `nginx -t refused the route for ${p.slug}: ${output}`, { slug: p.slug, nginx: output }));
      }
      await this.files.sync();
      if (good.length === 0 && !force) return errors;
    }

    const slugs = good.map((p) => p.slug);
    const oldWorkers = await workerProcesses(master);
    const reloaded = reload(master);
    const stillServing = reloaded.ok ? await retiredWorkers(oldWorkers, this.o.nginxTimeoutMs) : [];
    if (!reloaded.ok || stillServing.length > 0) {
      // Either nginx refused the signal, or the master did not apply the
      // configuration (it logs why and keeps the old workers): put the files
      // back so the disk matches what nginx serves.
      const why = reloaded.ok
        ? `the master did not apply it within ${this.o.nginxTimeoutMs} ms (old workers ${stillServing.join(', ')} still serve); see ${path.join(this.o.prefix, 'logs/error.log')}`
        : reloaded.output;
      this.counters.reloadFailures++;
      this.log.error({ routes: slugs, nginx: why }, 'nginx reload failed; restoring the previous route files');
      await this.files.restoreAll(backups);
      for (const slug of ['', ...slugs]) errors.set(slug, batchError(slug, `nginx did not reload: ${why}`, why));
      return errors;
    }
    const ms = performance.now() - started;
    this.counters.reloads++;
    this.counters.lastReloadMs = ms;
    this.counters.totalReloadMs += ms;
    this.log.info({ routes: slugs, ms: Math.round(ms) }, 'nginx reloaded');
    return errors;
  }
}
