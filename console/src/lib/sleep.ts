// How the console words sleep: the phases frozen and sleeping, a team's idle
// time, the sleep operations' steps, and where each sleep time comes from.
// Pure, shared by the dashboard, the team page, format.ts and the tests.
import type { TenantActivity, TenantView } from '$contract';
import { backupStepLabel } from './backups.js';

/** The phases as operators read them: what each sleep does in brackets. */
const PHASE_LABELS: Record<string, string> = { frozen: 'frozen (paused)', sleeping: 'asleep (stopped)' };

export function phaseLabel(phase: string): string {
  return PHASE_LABELS[phase] ?? phase;
}

/** Frozen or sleeping: the team's next request wakes it (unlike an operator's stop). */
export function asleep(phase: string): boolean {
  return phase === 'frozen' || phase === 'sleeping';
}

export const WAKES_ON_VISIT = 'wakes on next visit';

/** "idle 2 h" since its last request through nginx; "no request yet"; "—" when the edge was not read. */
export function idleLine(activity: Pick<TenantActivity, 'lastRequestAt'> | undefined, now: number): string {
  if (!activity) return '—';
  if (!activity.lastRequestAt) return 'no request yet';
  const ms = now - Date.parse(activity.lastRequestAt);
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `idle ${s} s`;
  if (s < 3600) return `idle ${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `idle ${Math.floor(s / 3600)} h`;
  return `idle ${Math.floor(s / 86400)} d`;
}

const KIND_LABELS: Record<string, string> = { freeze: 'freeze', sleep: 'sleep (stop)', wake: 'wake' };

/** An operation kind in a sentence: "sleep (stop)" says the sleep that frees memory. */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** The steps of freeze, sleep and wake (sleep-steps.ts), backup and restore (backups.ts) in words; other steps as the API names them. */
export function stepLabel(kind: string, step: string): string {
  if (kind === 'freeze' || kind === 'sleep') {
    if (step === 'route') return 'route to the wake listener (its next request wakes it)';
    if (step === 'pausing') return 'pausing its containers (memory kept, no CPU)';
    if (step === 'release') return 'letting go of its containers and networks (its data stays)';
  }
  if (kind === 'wake') {
    if (step === 'thawing') return 'thawing its containers';
    if (step === 'route') return 'route back to its app';
  }
  return backupStepLabel(kind, step) ?? step;
}

export type SleepField = 'pause' | 'stop';
export type SleepView = NonNullable<TenantView['sleep']>;

/** Where a time in force comes from: the team's own override, or its plan (Berth's defaults where the plan states none). */
export function sleepSource(sleep: SleepView, field: SleepField): 'team' | 'plan' {
  return sleep.override?.[field] !== undefined ? 'team' : 'plan';
}

/** "15m" → "15 min", "12h" → "12 h", "never" → "never"; anything else as it is. */
export function durationWords(text: string): string {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) return text;
  return `${m[1]} ${({ s: 's', m: 'min', h: 'h', d: 'd' } as const)[m[2] as 's' | 'm' | 'h' | 'd']}`;
}

/** What the tenant.sleep event says: why the team went to sleep. */
export function sleepReason(d: Record<string, unknown>): string {
  const what = d.kind === 'sleep' ? 'put to sleep (stopped)' : 'frozen (paused)';
  switch (d.reason) {
    case 'idle': return `${what}: idle for ${idleFor(Number(d.idleSeconds))}`;
    case 'memory': return `${what}: host memory short (${mib(d.availableBytes)} free, ${mib(d.minAvailableBytes)} wanted); the longest-idle frozen teams stop first`;
    case 'asked': return `${what} by an operator`;
    default: return `${what}${typeof d.reason === 'string' ? ` (${d.reason})` : ''}`;
  }
}

/** The tenant.sleep_times event: the times now in force, and which the team set itself. */
export function sleepTimesLine(d: Record<string, unknown>): string {
  const override = (d.override && typeof d.override === 'object' ? d.override : {}) as Record<string, unknown>;
  const own = Object.keys(override).filter((k) => k === 'pause' || k === 'stop');
  const times = `pause after ${String(d.pause)}, stop after ${String(d.stop)}`;
  return own.length === 0 ? `sleep times back to the plan's: ${times}` : `sleep times set: ${times} (the team's own: ${own.join(', ')})`;
}

function idleFor(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

const mib = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n / 1048576)} MiB` : '?');
