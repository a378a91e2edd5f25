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
 * What an engine step name means here: "db:starting" makes Database the
 * active step, "db:healthy" finishes it. The app's health is the wait between
 * "app:starting" and "app:healthy", so that one finishes App and Health at once.
 */
function advance(step: string): { active: Key; done: Key[] } | undefined {
  const finish = (key: Key) => ({ active: ORDER[ORDER.indexOf(key) + 1] ?? key, done: upTo(key) });
  // The engine reports these two once they are made.
  if (step === 'network' || step === 'volumes') return finish(step);
  if (step === 'route') return { active: 'route', done: upTo('health') };
  const [service, status] = step.split(':');
  if (service !== 'db' && service !== 'storage' && service !== 'app') return undefined;
  if (status !== 'healthy') return { active: service, done: upTo(service).slice(0, -1) };
  return finish(service === 'app' ? 'health' : service);
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
  let active: Key | undefined;
  let outcome: 'ok' | 'failed' | undefined;
  for (const e of events) {
    if (e.operation !== operationId) continue;
    if (e.type === 'operation.step' && e.data.step) {
      const next = advance(e.data.step);
      if (!next) continue;
      for (const k of next.done) done.add(k);
      active = next.active;
    }
    if (e.type === 'operation.started') active ??= 'network';
    if (e.type === 'operation.succeeded') outcome = 'ok';
    if (e.type === 'operation.failed') outcome = 'failed';
  }
  outcome ??= ended;
  if (outcome === 'ok') for (const s of STEPS) done.add(s.key);
  return STEPS.map((s) => ({
    key: s.key,
    label: s.label,
    state: done.has(s.key) ? 'done' : s.key === active ? (outcome === 'failed' ? 'failed' : 'active') : 'pending'
  }));
}
