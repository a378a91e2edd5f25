// A tenant as the console holds it: the API's view (the contract) plus what
// the console adds from live events.
import type { TenantStats, TenantView } from '$contract';

/**
 * A placeholder made from a live event before the first read lacks what only
 * the API knows (template, port, …), and events carry operation kinds as text.
 */
type Known = Omit<TenantView, 'template' | 'templateVersion' | 'desired' | 'port' | 'operation'>;
type Operation = Omit<NonNullable<TenantView['operation']>, 'kind'> & { kind: string };

export type Tenant = Known & Partial<Pick<TenantView, 'template' | 'templateVersion' | 'desired' | 'port'>> & {
  operation?: Operation;
  /** Filled by the console from tenant.stats events or GET /tenants/:slug/stats. */
  stats?: TenantStats;
  /** When the console saw the tenant enter running (live), for uptime. */
  runningSince?: string;
};
