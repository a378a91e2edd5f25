// The DevOps API's shapes as the console uses them (orchestrator/src/tenants/tenants.schema.ts,
// events/event-bus.ts, and the auth/templates/stats contract of issue 5).

export const PHASES = ['provisioning', 'running', 'degraded', 'stopped', 'hibernated', 'upgrading', 'failed', 'deleting'] as const;
export type Phase = (typeof PHASES)[number];

export interface TenantHealth {
  healthy: boolean;
  failures: number;
  checkedAt: string;
  failing?: string;
  detail?: string;
  restarts: number;
}

export interface TenantStats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  services?: Record<string, { cpuPercent?: number; memoryBytes?: number; memoryLimitBytes?: number; startedAt?: string } | undefined>;
}

/** The team's stored bytes against its plan's quota (GET /tenants/:slug measures when stale; lists show the last figure). */
export interface TenantStorage {
  quotaBytes: number;
  usedBytes?: number;
  checkedAt?: string;
  error?: string;
}

export interface Tenant {
  slug: string;
  displayName: string;
  plan: string;
  template?: string;
  templateVersion?: number;
  appVersion: string;
  phase: Phase;
  desired?: 'running' | 'stopped';
  url: string;
  port?: number;
  operation?: { id: string; kind: string; step: string; startedAt: string };
  health?: TenantHealth;
  lastError?: { code: string; message: string; at: string };
  /** Service name → container state, from the orchestrator's Docker list call. */
  services?: Record<string, string>;
  storage?: TenantStorage;
  createdAt: string;
  updatedAt: string;
  /** Filled by the console from tenant.stats events or GET /tenants/:slug/stats. */
  stats?: TenantStats;
  /** When the console saw the tenant enter running (live), for uptime. */
  runningSince?: string;
}

export interface BerthEvent {
  seq: number;
  at: string;
  type: string;
  tenant?: string;
  operation?: string;
  data?: Record<string, unknown>;
}

export interface Operator {
  id: string;
  email: string;
  name: string;
  status?: 'pending' | 'active' | 'disabled';
  createdAt?: string;
  /** Set while sign-in is locked after failures. */
  lockedUntil?: string;
}

export interface AuditEntry {
  at: string;
  actor: { tokenId?: string; name?: string } | null;
  action: string;
  target: Record<string, string>;
  status: number;
  result: string;
  ip?: string;
}

export interface ServiceLimits {
  memory?: string | number;
  cpus?: number;
  pids?: number;
}

export interface Template {
  name: string;
  description?: string;
  version: number;
  route?: { service?: string; port?: number } | string;
  plans: Record<string, { description?: string; storageQuotaBytes?: number; services: Record<string, ServiceLimits> }>;
  services: { name: string; image: string }[];
}

export const SLUG_RE = /^[a-z][a-z0-9-]{2,31}$/;
