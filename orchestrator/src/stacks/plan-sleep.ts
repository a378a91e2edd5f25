// When an idle team sleeps (x-berth.plans.<plan>.sleep, overridable per team):
// idle for `pause` it is frozen (docker pause: memory kept, no CPU), idle for
// `stop` it is stopped (0 MB). Either may be `never`. This module turns the
// template's and the team's words into milliseconds. Pure.
import { BerthError } from '../errors.js';
import { SLEEP_DURATION, type SleepSetting } from '../tenants/sleep.schema.js';
import type { LoadedTemplate, PlanSleep } from './template.schema.js';

/** A plan without a `sleep` block (or a field of it). */
export const DEFAULT_PLAN_SLEEP = { pause: '15m', stop: '12h' } as const;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Compiled once: the tenant list reads every team's and plan's times (no g flag, so no state between calls). */
const DURATION = new RegExp(SLEEP_DURATION);

/** "15m" → 900000, "never" → null; undefined when it is neither. */
export function sleepMs(text: unknown): number | null | undefined {
  if (typeof text !== 'string' || text.length > 12) return undefined;
  if (text === 'never') return null;
  const m = DURATION.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export function planSleepProblems(plan: string, sleep: PlanSleep | undefined): Array<[keyof PlanSleep, string]> {
  const problems: Array<[keyof PlanSleep, string]> = [];
  for (const field of ['pause', 'stop'] as const) {
    const value = sleep?.[field];
    if (value !== undefined && sleepMs(value) === undefined) {
      problems.push([field, `plan "${plan}": ${field} must be a duration such as 30s, 15m, 12h or 7d, or never; got "${String(value).slice(0, 40)}"`]);
    }
  }
  return problems;
}

/** What the policy applies: milliseconds of idleness, null for never; and the words they came from. */
export interface SleepTimes {
  pauseMs: number | null;
  stopMs: number | null;
  pause: string;
  stop: string;
}

/** The plan's times (defaults filled in), with the team's own override on top. */
export function sleepTimes(loaded: LoadedTemplate, plan: string, team?: SleepSetting): SleepTimes {
  const planSpec = loaded.template['x-berth'].plans[plan];
  if (!planSpec) throw new BerthError('PLAN_UNKNOWN', `plan "${plan}" does not exist in template ${loaded.name}`);
  const pause = team?.pause ?? planSpec.sleep?.pause ?? DEFAULT_PLAN_SLEEP.pause;
  const stop = team?.stop ?? planSpec.sleep?.stop ?? DEFAULT_PLAN_SLEEP.stop;
  return { pause, stop, pauseMs: sleepMs(pause) ?? null, stopMs: sleepMs(stop) ?? null };
}
