// The one owner of team routes. nginx keeps them as data (a host -> entry table
// in shared memory, proxy-config/berth_routes.lua); a change is one request to
// nginx's root-only control socket, served at once with no `nginx -t` and no
// reload, so keep-alive connections and WebSockets stay open. Changes go one
// at a time, in the order they were asked for.
//
// The table file nginx loads when it starts is written behind the changes, not
// per change: a whole-table write costs ~8 ms of this process's CPU plus an
// fsync at 10,000 routes (bench/routes.bench.ts), which made a change's cost
// grow with the table. A change resolves once nginx serves it; the file
// follows within WRITE_INTERVAL_MS (changes in between share one write). What
// the file guarantees is unchanged, since the writer is: every write is whole
// and atomic (a crash leaves the previous table, never half of one), a corrupt
// file is refused and its last good copy loaded. What may lag is only the
// newest changes, and nothing relies on them being in the file: a restarted
// nginx gets the whole table replayed from memory (restore(), called by the
// supervisor), and a restarted orchestrator replays its table at start and
// the reconciler sets every team's route from the registry.
import type { Logger } from '../log.js';
import { BerthError } from '../errors.js';
import { control } from './route-control.js';
import { assertBaseDomain, assertRouteSlug, entryLine, lineKey, tableText, type RouteSpec } from './route-entry.js';
import { RouteTableFile } from './route-table-file.js';

export interface RouteManagerOptions {
  controlSocket: string;
  tableFile: string;
  baseDomain: string;
  log: Logger;
  /** How long a change may wait for nginx's control socket (e.g. while nginx restarts). */
  controlTimeoutMs?: number;
  /** Least time between two table file writes; changes in between share the next one. */
  writeIntervalMs?: number;
}

const WRITE_INTERVAL_MS = 200;

export interface RouteStats {
  changes: number;
  failures: number;
  /** The control request (nginx serves it) of the last change; the table file follows behind. */
  lastChangeMs: number;
  totalChangeMs: number;
  restores: number;
  /** Table file writes, each holding every change made before it started. */
  writes: number;
  writeFailures: number;
  lastWriteMs: number;
}

export class RouteManager {
  private readonly file: RouteTableFile;
  private readonly timeoutMs: number;
  /** slug -> table line: what nginx was told, and what the file holds. */
  private readonly lines = new Map<string, string>();
  private loaded: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly writeIntervalMs: number;
  /** Changes the file does not hold yet. */
  private dirty = false;
  private writing: Promise<void> | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private lastWriteAt = 0;
  private lastWriteError: unknown;
  private readonly counters: RouteStats = { changes: 0, failures: 0, lastChangeMs: 0, totalChangeMs: 0, restores: 0, writes: 0, writeFailures: 0, lastWriteMs: 0 };

  constructor(private readonly o: RouteManagerOptions) {
    assertBaseDomain(o.baseDomain);
    this.file = new RouteTableFile(o.tableFile);
    this.timeoutMs = o.controlTimeoutMs ?? 10_000;
    this.writeIntervalMs = o.writeIntervalMs ?? WRITE_INTERVAL_MS;
  }

  /** Reads the table file once; a corrupt one is refused (logged) and its last good copy used. */
  init(): Promise<void> {
    this.loaded ??= this.file.load().then(({ lines, source, refused }) => {
      if (refused) this.o.log.error({ refused }, `route table refused (corrupt); using ${source ?? 'an empty table'} instead`);
      for (const line of lines) this.lines.set(lineKey(line).slug, line);
    });
    return this.loaded;
  }

  /** Serves `route` at <slug>.<baseDomain>; resolves once nginx serves it (the table file follows, see flush()). */
  async setRoute(slug: string, route: RouteSpec): Promise<void> {
    const line = entryLine(this.o.baseDomain, slug, route);
    return this.change(slug, line, () => control(this.o.controlSocket, 'PUT', '/entries', line, this.timeoutMs));
  }

  /** The host falls back to "No team lives at this address." (404). */
  async removeRoute(slug: string): Promise<void> {
    assertRouteSlug(slug);
    const host = `${slug}.${this.o.baseDomain}`;
    return this.change(slug, null, () => control(this.o.controlSocket, 'DELETE', `/entries/${host}`, undefined, this.timeoutMs));
  }

  /** Slugs nginx holds an entry for now (read fresh, for the reconciler), and those it should. */
  async listRoutes(): Promise<string[]> {
    await this.init();
    const answer = await control(this.o.controlSocket, 'GET', '/entries', undefined, this.timeoutMs);
    if (answer.status !== 200) throw new BerthError('PROXY_CONTROL_FAILED', `nginx did not list its routes: HTTP ${answer.status}`, {});
    const held = answer.body.split('\n').filter(Boolean).map((line) => lineKey(line).slug);
    return [...new Set([...held, ...this.lines.keys()])].sort();
  }

  /** Whether nginx serves exactly `desired` for this slug now, and our table agrees. */
  async isCurrent(slug: string, desired: RouteSpec): Promise<boolean> {
    const line = entryLine(this.o.baseDomain, slug, desired);
    await this.init();
    if (this.lines.get(slug) !== line) return false;
    const answer = await control(this.o.controlSocket, 'GET', `/entries/${lineKey(line).host}`, undefined, this.timeoutMs);
    return answer.status === 200 && answer.body.trim() === line;
  }

  /** Replaces nginx's whole table with ours (at start, and after nginx restarted). */
  restore(): Promise<void> {
    return this.serial(async () => {
      const answer = await control(this.o.controlSocket, 'PUT', '/table', tableText(this.lines.values()), this.timeoutMs);
      if (answer.status !== 204) throw new BerthError('PROXY_CONTROL_FAILED', `nginx refused the route table: HTTP ${answer.status} ${answer.body.trim()}`, { nginx: answer.body });
      this.counters.restores++;
      this.o.log.info({ routes: this.lines.size }, 'route table restored into nginx');
    });
  }

  stats(): RouteStats {
    return { ...this.counters };
  }

  /** Resolves once the table file holds every change made so far (at shutdown, and for tests); throws if a write failed. */
  async flush(): Promise<void> {
    for (;;) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
      if (this.writing) await this.writing;
      else if (this.dirty) {
        await this.write();
        if (this.lastWriteError) throw this.lastWriteError;
      } else return;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => this.init()).then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private change(slug: string, line: string | null, send: () => ReturnType<typeof control>): Promise<void> {
    const started = performance.now();
    return this.serial(async () => {
      let answer;
      try {
        answer = await send();
      } catch (err) {
        this.counters.failures++;
        throw err;
      }
      if (answer.status !== 204) {
        this.counters.failures++;
        const message = answer.body.trim();
        const field = /^(\w+):/.exec(message)?.[1] ?? 'entry';
        throw new BerthError(answer.status === 400 ? 'ROUTE_INVALID' : 'PROXY_CONTROL_FAILED', `nginx refused the route for ${slug}: ${message}`, { slug, field, nginx: message });
      }
      if (line === null) this.lines.delete(slug);
      else this.lines.set(slug, line);
      const ms = performance.now() - started;
      this.counters.changes++;
      this.counters.lastChangeMs = ms;
      this.counters.totalChangeMs += ms;
      this.scheduleWrite();
    });
  }

  /** One write at a time, at most one per writeIntervalMs; the first after a quiet spell starts at once. */
  private scheduleWrite(): void {
    this.dirty = true;
    if (this.writeTimer || this.writing) return; // the write in flight schedules the next when it ends
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.write();
    }, Math.max(0, this.lastWriteAt + this.writeIntervalMs - Date.now()));
  }

  /** Writes the whole table as it is now; a failure is logged and counted, and the next change (or flush) writes again. */
  private write(): Promise<void> {
    this.dirty = false;
    const started = performance.now();
    const lines = [...this.lines.values()];
    this.writing = this.file.write(lines).then(
      () => {
        this.lastWriteError = undefined;
        this.counters.writes++;
        this.counters.lastWriteMs = performance.now() - started;
      },
      (err: unknown) => {
        this.lastWriteError = err;
        this.dirty = true;
        this.counters.writeFailures++;
        this.o.log.error({ err: (err as Error).message, file: this.file.file }, 'route table file not written; nginx serves every route, but would start from an older table');
      }
    ).finally(() => {
      this.writing = undefined;
      this.lastWriteAt = Date.now();
      if (this.dirty && !this.lastWriteError) this.scheduleWrite();
    });
    return this.writing;
  }
}
