import type { Phase } from '../tenants/tenant.types.js';
import type { SleeperRecord } from './sleepers.js';
import type { JobAction, JobState, PreUpgradeBackup, TenantState } from './upgrades.schema.js';

// The lists live in the schema (a leaf the contract re-exports).
export { JOB_STATES, TENANT_STATES, JOB_ACTIONS, type JobState, type TenantState, type JobAction } from './upgrades.schema.js';

export const ACTIVE_STATES: readonly JobState[] = ['running', 'awaiting-approval', 'paused'];

/** Exactly one of: every tenant, those matching a filter, a list. */
export interface Selection {
  all?: boolean;
  tenants?: string[];
  filter?: { phase?: Phase; version?: string; slugPrefix?: string };
}

export interface Strategy {
  /** Tenants upgraded first, one batch, before the rest. */
  canary: number;
  /** Tenants upgraded at once after the canary. */
  concurrency: number;
  /** Go on after a healthy canary without waiting for approval. */
  autoApprove: boolean;
  /** Failed tenants after the canary that halt the job once exceeded. */
  maxFailures: number;
  /** How long a new app may take to pass /healthz. */
  healthTimeoutMs: number;
  /**
   * A backup of each team before its upgrade: required (no backup, no
   * upgrade: the team fails with BACKUP_FAILED and keeps its version),
   * best-effort (a failed backup is reported and the upgrade goes on), or
   * skip. Absent (jobs made before backups): required.
   */
  backup?: PreUpgradeBackup;
}

export interface JobTenant {
  slug: string;
  /** The version it ran when the job was made: what a rollback returns it to. */
  from: string;
  to: string;
  canary: boolean;
  state: TenantState;
  step?: string;
  /** The tenant operation of the latest attempt. */
  operation?: string;
  attempts: number;
  error?: { code: string; message: string };
  /** The backup taken before its upgrade (its id), or why there is none. */
  backup?: { id?: string; error?: { code: string; message: string } };
  /** A team asleep when its turn came: woken for the upgrade, then put back (upgrades/sleepers.ts). */
  sleeper?: SleeperRecord;
  startedAt?: Date;
  endedAt?: Date;
}

export interface UpgradeJob {
  _id: string;
  kind: 'upgrade' | 'rollback';
  /** The target version of an upgrade; a rollback's targets are per tenant. */
  toVersion?: string;
  rollbackOf?: string;
  selection: Selection;
  strategy: Strategy;
  state: JobState;
  /** When an operator approved the canary. */
  approvedAt?: Date;
  /** Why it halted or failed, for people. */
  reason?: string;
  tenants: JobTenant[];
  createdBy?: string;
  /** The orchestrator process that drives it. */
  owner: string;
  createdAt: Date;
  updatedAt: Date;
  endedAt?: Date;
}
