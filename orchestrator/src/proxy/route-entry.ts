// One route as nginx's table holds it: a line "<host> <slug> <kind> <args>",
// the format proxy-config/berth_routes.lua parses (and checks again). Pure.
// Every value is checked here first, lengths before patterns, so a bad entry
// is refused with the field it names before it reaches nginx at all.
import { crc32 } from 'node:zlib';
import { BerthError } from '../errors.js';
import { slugProblem } from '../contract/slug.js';

/** States whose page nginx answers itself (503, with Retry-After); the texts live in berth_routes.lua. */
export const DOWN_STATES = ['stopped', 'failed', 'provisioning', 'upgrading', 'deleting', 'degraded', 'hibernated', 'restoring'] as const;
export type DownState = (typeof DOWN_STATES)[number];

/**
 * A team's limits at the edge, enforced by berth_routes.lua per team: a leaky
 * bucket of `ratePerMinute` with `burst` requests of slack (nginx limit_req's
 * algorithm, nodelay), and at most `connections` requests in flight at once.
 * Its plan sets them (stacks/plan-edge.ts).
 */
export interface EdgeLimits {
  ratePerMinute: number;
  burst: number;
  connections: number;
}

export type RouteSpec =
  /** Without `limits`, nginx limits neither rate nor connections (tenants' routes always carry their plan's). */
  | { kind: 'up'; port: number; maxBodySize?: string; limits?: EdgeLimits }
  | { kind: 'down'; state: DownState }
  /** nginx hands the request, Host and all, to the orchestrator at `wake` (ipv4:port), which wakes the team. */
  | { kind: 'sleeping'; wake: string };

export const DEFAULT_MAX_BODY_SIZE = '100m';
/** The largest value of each (berth_routes.lua checks the same bounds again). */
export const MAX_EDGE: EdgeLimits = { ratePerMinute: 6_000_000, burst: 100_000, connections: 100_000 };
/** nginx.conf's global client_max_body_size: the cap for bodies sent without a Content-Length. */
export const MAX_BODY_CAP = 1024 ** 3;
const BODY_SIZE = /^([0-9]{1,10})([kmg]?)$/;
const DOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const WAKE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;
const TABLE_HEADER = 'berth-routes 1';

function invalid(slug: string, field: string, message: string): BerthError {
  const who = slug.length <= 32 ? slug : `${slug.slice(0, 32)}…`;
  return new BerthError('ROUTE_INVALID', `route for ${who}: ${field}: ${message}`, { slug: who, field });
}

export function assertRouteSlug(slug: unknown): asserts slug is string {
  if (typeof slug !== 'string') throw invalid('?', 'slug', 'must be a string');
  if (slug.length > 32) throw invalid(slug, 'slug', `${slug.length} characters; a tenant slug has at most 32`);
  const problem = slugProblem(slug);
  if (problem) throw invalid(slug, 'slug', problem);
}

export function assertBaseDomain(domain: string): void {
  if (domain.length > 200 || !DOMAIN.test(domain)) throw invalid('?', 'baseDomain', 'not a valid base domain (lower-case DNS labels)');
}

function portOk(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** "100m" → bytes. */
export function bodySizeBytes(slug: string, size: unknown): number {
  const m = typeof size === 'string' && size.length <= 12 ? BODY_SIZE.exec(size) : null;
  const bytes = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf(m[2] || ' ') : NaN;
  if (!m || bytes < 1) throw invalid(slug, 'maxBodySize', `must look like 100m, 512k or 1g, got "${String(size).slice(0, 40)}"`);
  if (bytes > MAX_BODY_CAP) throw invalid(slug, 'maxBodySize', `at most 1g (nginx.conf's client_max_body_size caps every body)`);
  return bytes;
}

/** "<rate per minute> <burst> <connections>", each an integer in its bounds. */
function edgeFields(slug: string, limits: unknown): string {
  if (typeof limits !== 'object' || limits === null) throw invalid(slug, 'limits', 'must be { ratePerMinute, burst, connections }');
  const l = limits as Record<string, unknown>;
  const bounds: Array<[keyof EdgeLimits, number]> = [['ratePerMinute', 1], ['burst', 0], ['connections', 1]];
  return bounds.map(([field, min]) => {
    const v = l[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_EDGE[field]) {
      throw invalid(slug, field, `must be an integer from ${min} to ${MAX_EDGE[field]}, got ${String(v).slice(0, 40)}`);
    }
    return String(v);
  }).join(' ');
}

/** The table line of one route, every value checked. */
export function entryLine(baseDomain: string, slug: string, route: RouteSpec): string {
  assertRouteSlug(slug);
  const host = `${slug}.${baseDomain}`;
  const kind = (route as { kind?: unknown } | null)?.kind;
  if (kind === 'up') {
    const r = route as { port: unknown; maxBodySize?: unknown };
    if (!portOk(r.port)) throw invalid(slug, 'port', `must be an integer from 1 to 65535, got ${String(r.port).slice(0, 40)}`);
    const bytes = bodySizeBytes(slug, r.maxBodySize ?? DEFAULT_MAX_BODY_SIZE);
    // No limits: a route set by hand or by a test (every tenant's route has its plan's).
    const limits = (route as { limits?: unknown }).limits;
    return `${host} ${slug} up ${r.port} ${bytes}${limits === undefined ? '' : ` ${edgeFields(slug, limits)}`}`;
  }
  if (kind === 'down') {
    const state = (route as { state: unknown }).state;
    if (!(DOWN_STATES as readonly unknown[]).includes(state)) {
      throw invalid(slug, 'state', `must be one of ${DOWN_STATES.join(', ')}, got "${String(state).slice(0, 40)}"`);
    }
    return `${host} ${slug} down ${state as string}`;
  }
  if (kind === 'sleeping') {
    const wake = (route as { wake: unknown }).wake;
    const m = typeof wake === 'string' && wake.length <= 21 ? WAKE.exec(wake) : null;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || !portOk(Number(m[5]))) {
      throw invalid(slug, 'wake', `must be the orchestrator's <ipv4>:<port>, got "${String(wake).slice(0, 40)}"`);
    }
    return `${host} ${slug} sleeping ${wake as string}`;
  }
  throw invalid(slug, 'kind', `must be up, down or sleeping, got "${String(kind).slice(0, 40)}"`);
}

/** The line's host (the table's key) and slug. */
export function lineKey(line: string): { host: string; slug: string } {
  const [host = '', slug = ''] = line.split(' ', 2);
  return { host, slug };
}

/**
 * A whole table: header, entries sorted, then "end <count> <crc32>" so a
 * truncated or altered file is refused as a whole (berth_routes.lua M.parse_table).
 */
export function tableText(lines: Iterable<string>): string {
  const body = [...lines].sort().map((l) => `${l}\n`).join('');
  const count = body === '' ? 0 : body.split('\n').length - 1;
  return `${TABLE_HEADER}\n${body}end ${count} ${crc32(body)}\n`;
}

/** The entry lines of a table text; throws a plain Error naming the line when it is corrupt. */
export function parseTable(text: string): string[] {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the last line does not end with a newline (truncated?)');
  if (lines[0] !== TABLE_HEADER) throw new Error(`line 1: expected "${TABLE_HEADER}"`);
  const trailer = /^end (\d+) (\d+)$/.exec(lines.at(-1) ?? '');
  if (!trailer || lines.length < 2) throw new Error('last line: expected "end <count> <crc32>" (truncated?)');
  const entries = lines.slice(1, -1);
  if (Number(trailer[1]) !== entries.length) throw new Error(`trailer: says ${trailer[1]} entries, found ${entries.length}`);
  if (String(crc32(entries.map((l) => `${l}\n`).join(''))) !== trailer[2]) throw new Error('trailer: checksum does not match the entries');
  entries.forEach((line, i) => {
    const { host, slug } = lineKey(line);
    if (line.length > 512 || slugProblem(slug) || !host.startsWith(`${slug}.`) || !DOMAIN.test(host)) throw new Error(`line ${i + 2}: not a route entry`);
  });
  return entries;
}
