// Bulk upgrades as the console shows them (orchestrator/src/upgrades/upgrades.schema.ts),
// and how one live event (upgrade.state, upgrade.tenant; `operation` is the
// job id) changes a job. Pure and in place, like tenant-events.ts.
import type { BerthEvent } from './types';

export const JOB_STATES = ['running', 'awaiting-approval', 'paused', 'succeeded', 'failed', 'halted', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TENANT_STATES = ['pending', 'upgrading', 'succeeded', 'failed', 'skipped'] as const;
export type TenantState = (typeof TENANT_STATES)[number];
export type JobAction = 'approve' | 'pause' | 'resume' | 'cancel';

export interface JobTenant {
  slug: string;
  from: string;
  to: string;
  canary: boolean;
  state: TenantState;
  step?: string;
  operation?: string;
  attempts: number;
  error?: { code: string; message: string };
  startedAt?: string;
  endedAt?: string;
}

export interface UpgradeJob {
  id: string;
  kind: 'upgrade' | 'rollback';
  toVersion?: string;
  rollbackOf?: string;
  state: JobState;
  reason?: string;
  strategy: { canary: number; concurrency: number; autoApprove: boolean; maxFailures: number; healthTimeoutMs: number };
  counts: Record<TenantState, number>;
  tenants: JobTenant[];
  createdBy?: string;
  approvedAt?: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
}

export interface AppVersion {
  version: string;
  image: string;
  createdAt: string;
  tenants: number;
  default: boolean;
}

/** The body of POST /upgrades and /upgrades/preview. */
export interface UpgradeRequest {
  toVersion: string;
  all?: boolean;
  tenants?: string[];
  filter?: { phase?: string; version?: string; slugPrefix?: string };
  canary?: number;
  concurrency?: number;
  autoApprove?: boolean;
  maxFailures?: number;
  healthTimeoutSeconds?: number;
}

export interface UpgradePreview {
  tenants: { slug: string; phase: string; from: string; to: string; canary: boolean }[];
  skipped: { slug: string; reason: string }[];
}

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
