// How one live event changes what the console shows about a tenant. Pure and
// in place (works on Svelte's $state proxies and on plain objects alike), so
// the dashboard, the tenant page, the tests and the bench share it.
import type { BerthEvent, Phase, TenantActivity, TenantStats } from '$contract';
import type { Tenant } from './tenant';

/** What the list around the tenant must do about an event, beyond updating it. */
export type ListEffect = 'add' | 'remove' | 'refetch' | undefined;

export function listEffect(e: BerthEvent, known: boolean): ListEffect {
  if (e.type === 'tenant.created') return 'add';
  if (e.type === 'tenant.deleted') return 'remove';
  // The end of an operation may change what no event carries (services, app version, health): read it once.
  if (e.type === 'operation.succeeded' || e.type === 'operation.failed') return known ? 'refetch' : undefined;
  // An event about a tenant we never heard of: we missed its creation (a reconnect); read it.
  if (!known && e.tenant && !e.type.startsWith('reconcile.')) return 'refetch';
  return undefined;
}

/** A row for a tenant we know only from its tenant.created event, until its full view arrives. */
export function placeholder(e: BerthEvent): Tenant {
  const d = e.data ?? {};
  return {
    slug: e.tenant!,
    displayName: typeof d.displayName === 'string' ? d.displayName : e.tenant!,
    plan: typeof d.plan === 'string' ? d.plan : '',
    appVersion: '',
    phase: 'provisioning',
    url: '',
    createdAt: e.at,
    updatedAt: e.at
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Applies `e` to `t`; returns whether anything changed. */
export function applyEvent(t: Tenant, e: BerthEvent): boolean {
  const d = e.data ?? {};
  switch (e.type) {
    case 'tenant.phase': {
      const to = str(d.to) as Phase | undefined;
      if (!to) return false;
      t.phase = to;
      t.updatedAt = e.at;
      if (to === 'running') {
        t.runningSince = e.at;
        if (t.health) Object.assign(t.health, { healthy: true, failures: 0, failing: undefined, detail: undefined });
      }
      return true;
    }
    case 'operation.started':
    case 'operation.resumed':
      t.operation = { id: e.operation ?? '', kind: str(d.kind) ?? 'operation', step: e.type === 'operation.resumed' ? 'resumed' : 'started', startedAt: e.at };
      return true;
    case 'operation.step':
      t.operation = { id: e.operation ?? t.operation?.id ?? '', kind: str(d.kind) ?? t.operation?.kind ?? 'operation', step: str(d.step) ?? '', startedAt: t.operation?.startedAt ?? e.at };
      return true;
    case 'operation.succeeded':
    case 'operation.failed': {
      t.operation = undefined;
      const phase = str(d.phase);
      if (phase && phase !== 'deleted') {
        if (phase === 'running' && t.phase !== 'running') t.runningSince = e.at;
        t.phase = phase as Phase;
      }
      t.lastError = e.type === 'operation.failed' ? { code: str(d.code) ?? 'FAILED', message: str(d.message) ?? 'the operation failed', at: e.at } : undefined;
      return true;
    }
    case 'health.check_failed':
      t.health = {
        restarts: t.health?.restarts ?? 0,
        healthy: false,
        failures: num(d.failures) ?? (t.health?.failures ?? 0) + 1,
        checkedAt: e.at,
        failing: str(d.failing),
        detail: str(d.detail)
      };
      return true;
    case 'health.ok':
    case 'health.recovered':
      t.health = { restarts: 0, healthy: true, failures: 0, checkedAt: e.at };
      return true;
    case 'health.restart':
      if (t.health) t.health.restarts = num(d.attempt) ?? t.health.restarts + 1;
      return true;
    case 'tenant.stats':
      t.stats = d as unknown as TenantStats;
      return true;
    case 'tenant.activity':
      t.activity = d as unknown as TenantActivity;
      return true;
    case 'tenant.sleep_times': {
      // The times in force and the team's own; the plan's did not change (a view read before has them).
      const pause = str(d.pause);
      const stop = str(d.stop);
      if (!pause || !stop || !t.sleep) return false;
      const o = (d.override && typeof d.override === 'object' ? d.override : {}) as Record<string, unknown>;
      const override = { ...(str(o.pause) ? { pause: str(o.pause) } : {}), ...(str(o.stop) ? { stop: str(o.stop) } : {}) };
      t.sleep = { pause, stop, plan: t.sleep.plan, ...(Object.keys(override).length > 0 ? { override } : {}) };
      return true;
    }
    default:
      return false;
  }
}
