// The provisioning steps a new team sees, folded from its operation's events
// (the status's history, then live ones from the sign-up socket). Pure, so the
// page renders the same list on the server and in the browser.
import type { ProgressEvent } from '$contract';

export type StepState = 'pending' | 'active' | 'done' | 'failed';

export interface ProgressStep {
  key: string;
  label: string;
  state: StepState;
}

/** The template's services under the names a team knows them by. */
const STEPS = [
  { key: 'network', label: 'Private network' },
  { key: 'volumes', label: 'Storage volumes' },
  { key: 'db', label: 'Database' },
  { key: 'storage', label: 'File storage' },
  { key: 'app', label: 'Your app' },
  { key: 'health', label: 'Health check' },
  { key: 'route', label: 'Web address' }
] as const;

type Key = (typeof STEPS)[number]['key'];

const ORDER: Key[] = STEPS.map((s) => s.key);
const upTo = (key: Key): Key[] => ORDER.slice(0, ORDER.indexOf(key) + 1);

/**
 * The steps an engine step name finishes: "db:healthy" finishes Database;
 * the app's health is the wait between "app:starting" and "app:healthy", so
 * that one finishes App and Health at once. Services start together, so
 * their steps arrive in any order: a step is done when its own event says
 * so, and the active one is the first not done yet. Neither ever moves back.
 */
function finishes(step: string): Key[] | undefined {
  // The engine reports these two once they are made.
  if (step === 'network' || step === 'volumes') return [step];
  if (step === 'route') return upTo('health');
  const [service, status] = step.split(':');
  if (service !== 'db' && service !== 'storage' && service !== 'app') return undefined;
  if (status !== 'healthy') return [];
  return service === 'app' ? ['app', 'health'] : [service];
}

/** Merges events by seq (a snapshot's history and live events overlap). */
export function mergeEvents(a: ProgressEvent[], b: ProgressEvent[]): ProgressEvent[] {
  const bySeq = new Map<number, ProgressEvent>();
  for (const e of [...a, ...b]) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

/**
 * `ended`: the outcome the sign-up's status already knows. The tenant's phase
 * is written before the operation's end event is published, so a page loaded
 * in between has a failed status and no operation.failed event yet (and, not
 * being live, no socket to bring it).
 */
export function progressSteps(events: ProgressEvent[], operationId: string, ended?: 'ok' | 'failed'): ProgressStep[] {
  const done = new Set<Key>();
  let begun = false;
  let outcome: 'ok' | 'failed' | undefined;
  for (const e of events) {
    if (e.operation !== operationId) continue;
    if (e.type === 'operation.step' && e.data.step) {
      const finished = finishes(e.data.step);
      if (!finished) continue;
      for (const k of finished) done.add(k);
      begun = true;
    }
    if (e.type === 'operation.started') begun = true;
    if (e.type === 'operation.succeeded') outcome = 'ok';
    if (e.type === 'operation.failed') outcome = 'failed';
  }
  outcome ??= ended;
  if (outcome === 'ok') for (const s of STEPS) done.add(s.key);
  const active = begun ? ORDER.find((k) => !done.has(k)) : undefined;
  return STEPS.map((s) => ({
    key: s.key,
    label: s.label,
    state: done.has(s.key) ? 'done' : s.key === active ? (outcome === 'failed' ? 'failed' : 'active') : 'pending'
  }));
}
