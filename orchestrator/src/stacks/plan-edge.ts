// A plan's limits at the edge (x-berth.plans.<plan>.edge): the request rate
// and burst, the requests a team may have in flight at once, and the largest
// request body. nginx enforces them per team (proxy-config/berth_routes.lua);
// this module turns the template's words into the numbers a route entry
// carries, and says what is wrong with a bad value. Pure.
import { BerthError } from '../errors.js';
import { bodySizeBytes, DEFAULT_MAX_BODY_SIZE, MAX_EDGE, type EdgeLimits } from '../proxy/route-entry.js';
import type { LoadedTemplate, PlanEdge } from './template.schema.js';

export interface PlanEdgeRoute {
  maxBodySize: string;
  limits: EdgeLimits;
}

/**
 * What a plan without an `edge` block (or without one of its fields) gets:
 * enough for a few people's browsers (a cold page load is a burst of a few
 * dozen requests), not enough for one team to crowd the edge out.
 */
export const DEFAULT_PLAN_EDGE = { rate: '50r/s', burst: 100, connections: 50, max_body_size: DEFAULT_MAX_BODY_SIZE } as const;

const RATE = /^([1-9][0-9]{0,6})r\/([sm])$/;

/** "20r/s" → 1200 (requests per minute), as nginx's limit_req writes rates; undefined when it is not one. */
export function ratePerMinute(rate: unknown): number | undefined {
  const m = typeof rate === 'string' && rate.length <= 12 ? RATE.exec(rate) : null;
  if (!m) return undefined;
  const perMinute = Number(m[1]) * (m[2] === 's' ? 60 : 1);
  return perMinute <= MAX_EDGE.ratePerMinute ? perMinute : undefined;
}

/** Every problem of one plan's edge block, as [field, message] (the loader adds the path and line). */
export function planEdgeProblems(plan: string, edge: PlanEdge | undefined): Array<[keyof PlanEdge, string]> {
  const problems: Array<[keyof PlanEdge, string]> = [];
  if (!edge) return problems;
  if (edge.rate !== undefined && ratePerMinute(edge.rate) === undefined) {
    problems.push(['rate', `plan "${plan}": rate must be requests per second or minute, such as 20r/s or 300r/m, at most ${MAX_EDGE.ratePerMinute / 60}r/s; got "${String(edge.rate).slice(0, 40)}"`]);
  }
  if (edge.max_body_size !== undefined) {
    try {
      bodySizeBytes(plan, edge.max_body_size);
    } catch {
      problems.push(['max_body_size', `plan "${plan}": max_body_size must be a size from 1k to 1g, such as 100m or 512k; got "${String(edge.max_body_size).slice(0, 40)}"`]);
    }
  }
  return problems;
}

/** The edge part of a tenant's `up` route, from its template and plan, defaults filled in. */
export function planEdge(loaded: LoadedTemplate, plan: string): PlanEdgeRoute {
  const x = loaded.template['x-berth'];
  const planSpec = x.plans[plan];
  if (!planSpec) throw new BerthError('PLAN_UNKNOWN', `plan "${plan}" does not exist in template ${loaded.name} (plans: ${Object.keys(x.plans).join(', ')})`);
  const edge = planSpec.edge ?? {};
  return {
    maxBodySize: edge.max_body_size ?? DEFAULT_PLAN_EDGE.max_body_size,
    limits: {
      ratePerMinute: ratePerMinute(edge.rate ?? DEFAULT_PLAN_EDGE.rate)!,
      burst: edge.burst ?? DEFAULT_PLAN_EDGE.burst,
      connections: edge.connections ?? DEFAULT_PLAN_EDGE.connections
    }
  };
}
