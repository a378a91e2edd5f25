import type { Sealed } from '../crypto/secret-box.js';
import type { Slot } from '../names.js';

import type { OperationKind, Phase } from './tenants.schema.js';
import type { SleepSetting } from './sleep.schema.js';

// The lists live in the schema (a leaf the contract re-exports); the records below use them.
export { PHASES, OPERATION_KINDS, type Phase, type OperationKind } from './tenants.schema.js';

export interface Operation {
  id: string;
  kind: OperationKind;
  /** The orchestrator process that runs it; another owner means it was left by a dead process. */
  owner: string;
  startedAt: Date;
  step: string;
  deleteData?: boolean;
  /** A create that reattached the kept volumes of an earlier tenant: rolling it back must keep them. */
  keepData?: boolean;
  /** An upgrade's blue/green swap, so that a restart can finish or undo it. */
  swap?: SwapPlan;
  /** A backup's id, so that a restart can mark it failed and thaw what it froze. */
  backup?: { id: string };
  /** What a restore puts back: a backup of `from` (this team, or the team it clones). A restart runs it again whole. */
  restore?: { from: string; backup: string };
}

/** Where an upgrade moves the routed service from and to. */
export interface SwapPlan {
  from: { version: string; slot: Slot; port: number };
  to: { version: string; slot: Slot; port: number };
  /** The upgrade job that asked for it. */
  job?: string;
}

export interface HealthState {
  healthy: boolean;
  failures: number;
  checkedAt: Date;
  failing?: string;
  detail?: string;
  restarts: number;
}

/** A tenant as stored in the registry (desired state and bookkeeping). */
export interface TenantDoc {
  _id: string;
  displayName: string;
  ownerEmail?: string;
  /**
   * The owner's one-time setup link (its token is the OWNER_SETUP_TOKEN
   * secret): when it stops working. Absent on tenants made before links
   * expired: createdAt + BERTH_OWNER_LINK_TTL_DAYS.
   */
  ownerLink?: { issuedAt: Date; expiresAt: Date };
  plan: string;
  template: string;
  templateVersion: number;
  appVersion: string;
  phase: Phase;
  /** What the operator asked for; the reconciler converges to it. */
  desired: 'running' | 'stopped';
  /** Host port on 127.0.0.1 where the app is published. */
  port: number;
  /** Which slot the routed service runs in (absent: a). */
  appSlot?: Slot;
  /** The port an upgrade in progress publishes its new container on. */
  nextPort?: number;
  secrets: Sealed;
  operation?: Operation;
  health?: HealthState;
  /** The team's own sleep times, over its plan's (absent: the plan's). */
  sleep?: SleepSetting;
  /** When the team last became running; idle time counts from here or its last request. */
  activeAt?: Date;
  lastError?: { code: string; message: string; at: Date; step?: string; call?: string };
  createdAt: Date;
  updatedAt: Date;
}

/** What a team's app is given: its own account at the mail relay, and how the relay's name resolves (mail-relay/ fills it). */
export interface TenantMail {
  smtpUrl: string;
  from: string;
  extraHosts: string[];
}
