// The one owner of team routes. nginx keeps them as data (a host -> entry table
// in shared memory, proxy-config/berth_routes.lua); a change is one request to
// nginx's root-only control socket, served at once with no `nginx -t` and no
// reload, so keep-alive connections and WebSockets stay open. Every change is
// also written to the table file nginx loads when it starts, and restore()
// replays the whole table after the supervisor restarted nginx. Changes go
// one at a time, in the order they were asked for.
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
}

export interface RouteStats {
  changes: number;
  failures: number;
  /** Control request plus table write, of the last change. */
  lastChangeMs: number;
  totalChangeMs: number;
  restores: number;
}

export class RouteManager {
  private readonly file: RouteTableFile;
  private readonly timeoutMs: number;
  /** slug -> table line: what nginx was told, and what the file holds. */
  private readonly lines = new Map<string, string>();
  private loaded: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private writing: Promise<void> = Promise.resolve();
  private queuedWrite: Promise<void> | undefined;
  private readonly counters: RouteStats = { changes: 0, failures: 0, lastChangeMs: 0, totalChangeMs: 0, restores: 0 };

  constructor(private readonly o: RouteManagerOptions) {
    assertBaseDomain(o.baseDomain);
    this.file = new RouteTableFile(o.tableFile);
    this.timeoutMs = o.controlTimeoutMs ?? 10_000;
  }

  /** Reads the table file once; a corrupt one is refused (logged) and its last good copy used. */
  init(): Promise<void> {
    this.loaded ??= this.file.load().then(({ lines, source, refused }) => {
      if (refused) this.o.log.error({ refused }, `route table refused (corrupt); using ${source ?? 'an empty table'} instead`);
      for (const line of lines) this.lines.set(lineKey(line).slug, line);
    });
    return this.loaded;
  }

  /** Serves `route` at <slug>.<baseDomain>; resolves once nginx serves it and the file holds it. */
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
    }).then(async () => {
      await this.persist();
      const ms = performance.now() - started;
      this.counters.changes++;
      this.counters.lastChangeMs = ms;
      this.counters.totalChangeMs += ms;
    });
  }

  /** One table write at a time; changes made while one runs share the next. */
  private persist(): Promise<void> {
    if (!this.queuedWrite) {
      const next = this.writing.catch(() => undefined).then(() => {
        this.queuedWrite = undefined;
        return this.file.write(this.lines.values());
      });
      this.queuedWrite = next;
      this.writing = next;
    }
    return this.queuedWrite;
  }
}
