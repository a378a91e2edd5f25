// How often a team is backed up and what is kept (x-berth.plans.<plan>.backup):
// a backup every `every` (default 24h; never: none on a schedule), keeping the
// newest of each of the last `keep.daily` days and `keep.weekly` weeks, and
// the newest `keep.pre-upgrade` taken before upgrades and restores. Pure.
import { BerthError } from '../errors.js';
import { sleepMs } from './plan-sleep.js';
import type { LoadedTemplate, PlanBackupSpec } from './template.schema.js';

export const DEFAULT_PLAN_BACKUP = { every: '24h', keep: { daily: 7, weekly: 4, 'pre-upgrade': 3 } } as const;

export interface BackupPolicy {
  every: string;
  /** null: never on a schedule. */
  everyMs: number | null;
  keep: { daily: number; weekly: number; preUpgrade: number };
}

export function planBackupProblems(plan: string, backup: PlanBackupSpec | undefined): Array<[string, string]> {
  const every = backup?.every;
  if (every === undefined || sleepMs(every) !== undefined) return [];
  return [['every', `plan "${plan}": every must be a duration such as 6h, 24h or 7d, or never; got "${String(every).slice(0, 40)}"`]];
}

export function backupPolicy(loaded: LoadedTemplate, plan: string): BackupPolicy {
  const spec = loaded.template['x-berth'].plans[plan];
  if (!spec) throw new BerthError('PLAN_UNKNOWN', `plan "${plan}" does not exist in template ${loaded.name}`);
  const every = spec.backup?.every ?? DEFAULT_PLAN_BACKUP.every;
  const keep = { ...DEFAULT_PLAN_BACKUP.keep, ...spec.backup?.keep };
  return { every, everyMs: sleepMs(every) ?? null, keep: { daily: keep.daily, weekly: keep.weekly, preUpgrade: keep['pre-upgrade'] } };
}
