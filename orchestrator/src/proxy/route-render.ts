// Renders one tenant's nginx server block from proxy-config/route.conf. Pure:
// the template text comes in, the file text goes out. Every value is validated
// before it reaches the text, because nginx would read anything else as
// configuration (a ';' or '}' in a slug would be a directive).
import { createHash } from 'node:crypto';
import { BerthError } from '../errors.js';
import { slugProblem } from '../contract/slug.js';

export const DOWN_STATES = ['stopped', 'failed', 'provisioning', 'upgrading', 'deleting', 'degraded', 'hibernated'] as const;
export type DownState = (typeof DOWN_STATES)[number];

export type RouteSpec =
  | { kind: 'up'; port: number; maxBodySize?: string }
  | { kind: 'down'; state: DownState };

export interface RenderInput {
  slug: string;
  /** Teams are served at <slug>.<baseDomain>. */
  baseDomain: string;
  /** The port the main nginx.conf listens on. */
  httpPort: number;
  route: RouteSpec;
}

export const DEFAULT_MAX_BODY_SIZE = '100m';
const BODY_SIZE = /^[0-9]+[kmg]?$/;
const DOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

// What the 503 page says, and when a browser or client should try again:
// passing states come back soon, the others need an operator.
const DOWN_PAGE: Record<DownState, { note: string; retryAfter: number }> = {
  provisioning: { note: 'It is being set up and will answer in a moment.', retryAfter: 10 },
  upgrading: { note: 'It is being upgraded and will be back shortly.', retryAfter: 10 },
  degraded: { note: 'It is not answering its health checks right now; it is being looked after.', retryAfter: 30 },
  stopped: { note: 'It has been stopped. It will answer again once an operator starts it.', retryAfter: 300 },
  hibernated: { note: 'It is asleep. It will answer again once it is woken up.', retryAfter: 60 },
  failed: { note: 'It could not be started. An operator needs to look at it.', retryAfter: 300 },
  deleting: { note: 'It is being deleted.', retryAfter: 300 }
};

function invalid(slug: string, field: string, message: string): BerthError {
  return new BerthError('ROUTE_INVALID', field === 'slug' ? message : `route for ${slug}: ${message}`, { slug, field });
}

export function assertRouteSlug(slug: string): void {
  const problem = slugProblem(slug);
  if (problem) throw invalid(slug, 'slug', problem);
}

function assertPort(slug: string, field: string, port: unknown): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(slug, field, `${field} must be an integer from 1 to 65535, got ${String(port)}`);
  }
}

/** The placeholder values of one route, all validated. */
function values(input: RenderInput): Record<string, string> {
  const { slug, baseDomain, httpPort, route } = input;
  assertRouteSlug(slug);
  if (!DOMAIN.test(baseDomain)) throw invalid(slug, 'baseDomain', `"${baseDomain}" is not a valid base domain`);
  assertPort(slug, 'httpPort', httpPort);
  const common = { SLUG: slug, BASE_DOMAIN: baseDomain, HTTP_PORT: String(httpPort), KIND: route.kind };
  if (route.kind === 'up') {
    assertPort(slug, 'port', route.port);
    const size = route.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    if (typeof size !== 'string' || !BODY_SIZE.test(size)) {
      throw invalid(slug, 'maxBodySize', `maxBodySize must look like 100m, 512k or 1g, got "${String(size)}"`);
    }
    return { ...common, APP_PORT: String(route.port), MAX_BODY_SIZE: size };
  }
  if (route.kind === 'down') {
    if (!(DOWN_STATES as readonly string[]).includes(route.state)) {
      throw invalid(slug, 'state', `state must be one of ${DOWN_STATES.join(', ')}, got "${String(route.state)}"`);
    }
    const page = DOWN_PAGE[route.state];
    return { ...common, KIND: `down: ${route.state}`, STATE: route.state, STATE_NOTE: page.note, RETRY_AFTER: String(page.retryAfter) };
  }
  throw invalid(slug, 'kind', `route kind must be up or down, got "${String((route as { kind: unknown }).kind)}"`);
}

/** Keeps the common lines and the #@up or #@down part; drops "##" lines. */
function select(template: string, kind: 'up' | 'down'): string {
  const out: string[] = [];
  let part: 'common' | 'up' | 'down' = 'common';
  for (const line of template.split('\n')) {
    const marker = /^#@(\w+)\s*$/.exec(line)?.[1];
    if (marker === 'up' || marker === 'down') {
      if (part !== 'common') throw new Error(`route template: #@${marker} inside #@${part}`);
      part = marker;
    } else if (marker === 'end') {
      if (part === 'common') throw new Error('route template: #@end without #@up or #@down');
      part = 'common';
    } else if (marker !== undefined) {
      throw new Error(`route template: unknown marker #@${marker}`);
    } else if (!line.startsWith('##') && (part === 'common' || part === kind)) {
      out.push(line);
    }
  }
  if (part !== 'common') throw new Error(`route template: #@${part} is never closed`);
  return out.join('\n');
}

/**
 * The file text of one tenant's route. Deterministic, so comparing it with the
 * file on disk tells whether a route is stale. The revision is a hash of the
 * rest of the text; nginx sends it on /__berth/route, so a probe can tell the
 * new file serves rather than the previous one still loaded in old workers.
 */
export function renderRoute(template: string, input: RenderInput): string {
  const vals = values(input);
  let text = select(template, input.route.kind).replace(/__([A-Z_]+)__/g, (whole, name: string) =>
    name === 'REVISION' ? whole : (vals[name] ?? whole)
  );
  const left = /__(?!REVISION__)[A-Z_]+__/.exec(text);
  if (left) throw new Error(`route template: placeholder ${left[0]} has no value for a ${input.route.kind} route`);
  const revision = createHash('sha256').update(text).digest('hex').slice(0, 16);
  text = text.replaceAll('__REVISION__', revision);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The revision a route file announces, if it has one (raw test routes may not). */
export function routeRevision(text: string): string | undefined {
  return /^\s*add_header X-Berth-Revision ([0-9a-f]+) always;$/m.exec(text)?.[1];
}
