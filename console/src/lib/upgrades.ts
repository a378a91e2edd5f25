// What the console does with bulk upgrade jobs (their shape is the contract's
// UpgradeJobView): which actions a state allows, and how one live event
// (upgrade.state, upgrade.tenant; `operation` is the job id) changes a job.
// Pure and in place, like tenant-events.ts.
import { JOB_STATES, TENANT_STATES } from '$contract';
import type { BerthEvent, JobAction, JobState, TenantState, UpgradeJobTenant as JobTenant, UpgradeJobView as UpgradeJob } from '$contract';

export const isActive = (s: JobState) => s === 'running' || s === 'awaiting-approval' || s === 'paused';

/** Which actions an operator may take on a job in state `s`. */
export function actionsFor(s: JobState): JobAction[] {
  if (s === 'awaiting-approval') return ['approve', 'pause', 'cancel'];
  if (s === 'running') return ['pause', 'cancel'];
  if (s === 'paused') return ['resume', 'cancel'];
  return [];
}

/** Whether the job (or one tenant of it) can be rolled back now: it is not running and changed something. */
export const canRollBack = (job: UpgradeJob, t?: JobTenant) =>
  job.state !== 'running' && (t ? t.state === 'succeeded' && t.from !== t.to : job.tenants.some((e) => e.state === 'succeeded' && e.from !== e.to));

function recount(job: UpgradeJob): void {
  const counts = Object.fromEntries(TENANT_STATES.map((s) => [s, 0])) as Record<TenantState, number>;
  for (const t of job.tenants) counts[t.state]++;
  job.counts = counts;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Applies `e` to `job` if it is about it; returns whether anything changed. */
export function applyUpgradeEvent(job: UpgradeJob, e: BerthEvent): boolean {
  if (e.operation !== job.id) return false;
  const d = e.data ?? {};
  if (e.type === 'upgrade.state') {
    const to = str(d.to) as JobState | undefined;
    if (!to || !(JOB_STATES as readonly string[]).includes(to)) return false;
    job.state = to;
    job.updatedAt = e.at;
    if (str(d.reason)) job.reason = str(d.reason);
    if (!isActive(to)) job.endedAt = e.at;
    return true;
  }
  if (e.type === 'upgrade.tenant') {
    const t = job.tenants.find((x) => x.slug === e.tenant);
    const state = str(d.state) as TenantState | undefined;
    if (!t || !state || !(TENANT_STATES as readonly string[]).includes(state)) return false;
    t.state = state;
    t.step = str(d.step);
    if (typeof d.attempts === 'number') t.attempts = d.attempts;
    t.error = str(d.code) ? { code: str(d.code)!, message: str(d.message) ?? '' } : undefined;
    recount(job);
    return true;
  }
  return false;
}
