// Small display helpers shared by the pages.
import { backupEventLine } from './backups.js';
import { kindLabel, phaseLabel, sleepReason, sleepTimesLine, stepLabel } from './sleep.js';

export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "12 s ago", "3 min ago", … from an ISO time; "never" when there is none. */
export function ago(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The dashboard's one-line activity: last request, requests, errors, open WebSockets. */
export function activityLine(a: { lastRequestAt?: string; requests: number; errors: number; openWebSockets: number } | undefined, now: number): string {
  if (!a) return '—';
  const parts = [a.lastRequestAt ? ago(a.lastRequestAt, now) : 'no requests', `${a.requests} req`];
  if (a.errors > 0) parts.push(`${a.errors} err`);
  if (a.openWebSockets > 0) parts.push(`${a.openWebSockets} ws`);
  return parts.join(' · ');
}

export function percent(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)}%`;
}

export function time(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleTimeString();
}

export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}

const UP_PHASES = new Set(['running', 'degraded', 'upgrading']);

/**
 * How long the tenant has been up: since the console saw it enter running,
 * else since its app container started (stats), else since it was created.
 * undefined when it is not up.
 */
export function upSince(t: { phase: string; runningSince?: string; createdAt: string }): string | undefined {
  if (!UP_PHASES.has(t.phase)) return undefined;
  // The stats schema has no startedAt (the console's old hand copy assumed one the API never sent).
  return t.runningSince ?? t.createdAt;
}

/** A one-line description of an event for timelines and progress lists. */
export function describe(e: { type: string; data?: Record<string, unknown> }): string {
  const d = e.data ?? {};
  switch (e.type) {
    case 'tenant.created': return `created (plan ${String(d.plan ?? '?')})`;
    case 'tenant.phase': return `phase ${phaseLabel(String(d.from))} → ${phaseLabel(String(d.to))}${d.reason ? ` (${String(d.reason)})` : ''}${d.failing ? ` — ${String(d.failing)} failing` : ''}`;
    case 'tenant.deleted': return d.deleteData ? 'deleted with its data' : 'deleted (data kept)';
    case 'tenant.sleep': return sleepReason(d);
    case 'tenant.sleep_times': return sleepTimesLine(d);
    case 'tenant.wake_failed': return `wake failed: ${String(d.code)} — ${String(d.message)}; the team is failed`;
    case 'operation.started': return `${kindLabel(String(d.kind))} started`;
    case 'operation.resumed': return `${kindLabel(String(d.kind))} resumed after a restart (was at ${String(d.from)})`;
    case 'operation.step': return `${kindLabel(String(d.kind))}: ${stepLabel(String(d.kind), String(d.step))}`;
    case 'operation.succeeded': return `${kindLabel(String(d.kind))} succeeded in ${String(d.seconds)} s → ${phaseLabel(String(d.phase))}`;
    case 'operation.failed': return `${kindLabel(String(d.kind))} failed: ${String(d.code)} — ${String(d.message)}`;
    case 'health.check_failed': return `health check failed (${String(d.failing ?? '?')}, ${String(d.failures ?? '?')} in a row): ${String(d.detail ?? '')}`;
    case 'health.restart': return d.reason === 'crashed' ? `started ${String(d.service)} again: it died` : `restarted ${String(d.service)} (attempt ${String(d.attempt)})`;
    case 'health.crash_loop': return `crash loop: ${String(d.service)} died ${String(d.deaths)} times within ${Math.round(Number(d.windowMs) / 1000)} s; the team was stopped`;
    case 'health.ok': case 'health.recovered': return 'healthy again';
    case 'terminal.opened': return `terminal opened in ${String(d.service)}${d.operator ? ` by ${String(d.operator)}` : ''}`;
    case 'terminal.closed': return `terminal in ${String(d.service)} closed after ${String(d.seconds)} s (${String(d.reason)})`;
    case 'reconcile.recreate': return 'reconciler recreated missing containers';
    case 'reconcile.orphan_removed': return 'reconciler removed orphaned containers';
    default: return e.type.startsWith('backup.') ? backupEventLine(e.type, d) : e.type;
  }
}
