// The one owner of per-team activity from the edge. nginx counts every team's
// requests, errors and open WebSockets in shared memory (berth_routes.lua
// M.log_activity); refresh() reads them all in one control-socket call (the
// stats loop calls it once per pass) and keeps the latest here. nginx's
// counters start again from 0 when nginx restarts (its "boot" changes): what
// was counted before is carried as a base, so totals never go down while the
// orchestrator runs, and the last request time never goes backwards. When a
// team's route is deleted nginx drops its counters, and so does this module.
// The sleep-when-idle work reads activity(slug).
import type { Logger } from '../log.js';
import { slugProblem } from '../contract/slug.js';
import { control } from './route-control.js';
import type { ActivityView } from './edge-activity.schema.js';

export interface Activity {
  /** When the last request ended (a WebSocket: when it closed); null if none seen. */
  lastRequestAt: Date | null;
  requests: number;
  errors: number;
  openWebSockets: number;
}

/** One team's counters as nginx reported them. */
export interface ActivityLine {
  slug: string;
  lastRequestMs: number;
  requests: number;
  errors: number;
  openWebSockets: number;
}

export interface ActivityReport {
  boot: string;
  lines: ActivityLine[];
  /** Lines refused (too long, a bad slug or number), with why. */
  refused: string[];
}

const HEADER = 'berth-activity 1 ';
/** 10,000 teams take about 700 KB; far more means something is wrong. */
export const MAX_REPORT_BYTES = 8 * 1024 * 1024;
const MAX_LINE = 128;
const MAX_BOOT = 40;
const MAX_DIGITS = 15; // below 2^53

function count(text: string): number | undefined {
  return text.length <= MAX_DIGITS && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Parses GET /activity; lengths are checked before any pattern runs. */
export function parseActivity(text: string): ActivityReport {
  if (text.length > MAX_REPORT_BYTES) throw new Error(`activity report: longer than ${MAX_REPORT_BYTES} bytes`);
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  const head = rows[0] ?? '';
  const boot = head.slice(HEADER.length);
  if (!head.startsWith(HEADER) || boot.length === 0 || boot.length > MAX_BOOT || !/^[0-9-]+$/.test(boot)) {
    throw new Error(`activity report: line 1 is not "${HEADER}<boot>"`);
  }
  const lines: ActivityLine[] = [];
  const refused: string[] = [];
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.length > MAX_LINE) {
      refused.push(`line ${i + 1}: longer than ${MAX_LINE} characters`);
      continue;
    }
    const f = row.split(' ');
    const slug = f[0] ?? '';
    const n = f.slice(1).map(count);
    if (f.length !== 5 || slug.length > 32 || slugProblem(slug)) refused.push(`line ${i + 1}: not "<slug> <ms> <requests> <errors> <websockets>"`);
    else if (n.some((x) => x === undefined)) refused.push(`line ${i + 1}: a count is not a non-negative integer`);
    else lines.push({ slug, lastRequestMs: n[0]!, requests: n[1]!, errors: n[2]!, openWebSockets: n[3]! });
  }
  return { boot, lines, refused };
}

interface Slot {
  /** Counted before nginx's last restart. */
  baseRequests: number;
  baseErrors: number;
  /** nginx's own numbers at the last read. */
  requests: number;
  errors: number;
  lastRequestMs: number;
  openWebSockets: number;
  /** In nginx's last report (false: carried over an nginx restart, no traffic since). */
  reported: boolean;
}

export interface EdgeActivityOptions {
  controlSocket: string;
  log: Logger;
  /** How long one read may wait for the control socket. */
  timeoutMs?: number;
  clock?: () => Date;
}

export class EdgeActivity {
  private readonly slots = new Map<string, Slot>();
  private boot: string | undefined;
  private lastRead: Date | undefined;
  private reading: Promise<string[]> | undefined;
  private readonly clock: () => Date;
  private readonly listeners = new Set<(changed: string[]) => Promise<void>>();
  private reads = 0;

  constructor(private readonly o: EdgeActivityOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  /**
   * Reads every team's counters from nginx in one call; returns the slugs
   * whose activity changed. Whoever reads (the stats loop, the sleep policy),
   * every listener hears of each change once.
   */
  refresh(): Promise<string[]> {
    this.reading ??= this.read()
      .then(async (changed) => {
        if (changed.length > 0) for (const listener of this.listeners) await listener(changed);
        return changed;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Called after each read that changed some team's activity; a listener's failure is its own to log. */
  onChange(listener: (changed: string[]) => Promise<void>): void {
    this.listeners.add(listener);
  }

  /** Zeros for a team nginx has not counted (yet). */
  activity(slug: string): Activity {
    const s = this.slots.get(slug);
    if (!s) return { lastRequestAt: null, requests: 0, errors: 0, openWebSockets: 0 };
    return {
      lastRequestAt: s.lastRequestMs > 0 ? new Date(s.lastRequestMs) : null,
      requests: s.baseRequests + s.requests,
      errors: s.baseErrors + s.errors,
      openWebSockets: s.openWebSockets
    };
  }

  /** Changes with every read of nginx (each view carries the read's time): the tenant list's cache key. */
  get version(): number {
    return this.reads;
  }

  /** What the API shows; undefined until nginx was first read. */
  view(slug: string): ActivityView | undefined {
    if (!this.lastRead) return undefined;
    const a = this.activity(slug);
    return {
      ...(a.lastRequestAt ? { lastRequestAt: a.lastRequestAt.toISOString() } : {}),
      requests: a.requests,
      errors: a.errors,
      openWebSockets: a.openWebSockets,
      readAt: this.lastRead.toISOString()
    };
  }

  /** Every team nginx counted, for /metrics. */
  all(): [string, Activity][] {
    return [...this.slots.keys()].sort().map((slug) => [slug, this.activity(slug)]);
  }

  get readAt(): Date | undefined {
    return this.lastRead;
  }

  private async read(): Promise<string[]> {
    const answer = await control(this.o.controlSocket, 'GET', '/activity', undefined, this.o.timeoutMs ?? 2000);
    if (answer.status !== 200) throw new Error(`nginx's GET /activity answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    const report = parseActivity(answer.body);
    if (report.refused.length > 0) this.o.log.warn({ refused: report.refused.slice(0, 5), count: report.refused.length }, 'activity lines refused');
    const before = new Map(this.all().map(([slug, a]) => [slug, JSON.stringify(a)]));
    const restarted = this.boot !== undefined && report.boot !== this.boot;
    this.boot = report.boot;
    const reported = new Set<string>();
    for (const line of report.lines) {
      reported.add(line.slug);
      const s = this.slots.get(line.slug) ?? { baseRequests: 0, baseErrors: 0, requests: 0, errors: 0, lastRequestMs: 0, openWebSockets: 0, reported: true };
      // A count below the last one: nginx started again even if the boot
      // stamp were to look the same.
      if (restarted || line.requests < s.requests || line.errors < s.errors) this.carry(s);
      s.requests = line.requests;
      s.errors = line.errors;
      s.lastRequestMs = Math.max(s.lastRequestMs, line.lastRequestMs);
      s.openWebSockets = line.openWebSockets;
      s.reported = true;
      this.slots.set(line.slug, s);
    }
    for (const [slug, s] of this.slots) {
      if (reported.has(slug)) continue;
      if (restarted) {
        // nginx started again and the team had no traffic since.
        this.carry(s);
        s.openWebSockets = 0;
        s.reported = false;
      } else if (s.reported) {
        // In the last report, gone from this one: nginx dropped the counters
        // with the team's route (deleted).
        this.slots.delete(slug);
      }
    }
    this.lastRead = this.clock();
    this.reads++;
    return this.all().filter(([slug, a]) => before.get(slug) !== JSON.stringify(a)).map(([slug]) => slug);
  }

  private carry(s: Slot): void {
    s.baseRequests += s.requests;
    s.baseErrors += s.errors;
    s.requests = 0;
    s.errors = 0;
  }
}
