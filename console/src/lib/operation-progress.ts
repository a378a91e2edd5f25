// One operation's progress as a page follows it on the events socket: its
// steps in words, then how it ended. Pure and in place (works on Svelte's
// $state proxies and on plain objects), shared by the team page and its
// Backups tab.
import type { BerthEvent } from '$contract';
import { kindLabel, phaseLabel, stepLabel } from './sleep.js';

/** No event about a running operation for this long: say so instead of spinning. */
export const QUIET_MS = 120_000;

export interface Progress {
  id: string;
  kind: string;
  steps: string[];
  outcome?: 'ok' | 'error' | 'quiet';
  message?: string;
  /** How it ended: operation.succeeded's or operation.failed's data (phase, seconds, code, message). */
  end?: Record<string, unknown>;
  lastEventAt: number;
}

export function startProgress(id: string, kind: string, now = Date.now()): Progress {
  return { id, kind, steps: [], lastEventAt: now };
}

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Applies an event of its operation (others are left alone); true when the event ended it. */
export function advance(p: Progress, e: BerthEvent, slug: string, now = Date.now()): boolean {
  if (e.operation !== p.id || p.outcome === 'ok' || p.outcome === 'error') return false;
  p.lastEventAt = now;
  if (p.outcome === 'quiet') p.outcome = undefined;
  const d = e.data ?? {};
  if (e.type === 'operation.step') p.steps.push(stepLabel(p.kind, String(d.step)));
  if (e.type === 'operation.succeeded') {
    p.outcome = 'ok';
    p.end = d;
    p.message = d.phase === 'deleted' ? `Deleted ${slug}.` : `${cap(kindLabel(p.kind))} finished in ${d.seconds} s: the team is ${phaseLabel(String(d.phase))}.`;
    return true;
  }
  if (e.type === 'operation.failed') {
    p.outcome = 'error';
    p.end = d;
    p.message = `${cap(kindLabel(p.kind))} failed: ${d.message ?? d.code}`;
    return true;
  }
  return false;
}

/** Marks a running operation quiet when no event came for QUIET_MS. */
export function checkQuiet(p: Progress, now: number): void {
  if (p.outcome || now - p.lastEventAt <= QUIET_MS) return;
  p.outcome = 'quiet';
  p.message = `No progress reported for ${QUIET_MS / 1000} s. The ${kindLabel(p.kind)} may still be running: watch the timeline or reload the page.`;
}
