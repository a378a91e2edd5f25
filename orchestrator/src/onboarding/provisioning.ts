// What a new team may see of its own provisioning: the steps of its
// operations (kind, step, phase), never event details meant for operators
// (log lines, container names, health detail); a failure said in plain words.
import { BerthError } from '../errors.js';
import type { BerthEvent, EventBus } from '../events/event-bus.js';
import type { ProgressEvent } from './onboarding.schema.js';

export type { ProgressEvent };

const SHOWN = new Set(['operation.started', 'operation.step', 'operation.succeeded', 'operation.failed', 'tenant.phase']);
const FIELDS = ['kind', 'step', 'phase', 'from', 'to', 'seconds', 'code'] as const;

/** The event as the sign-up's page may see it; undefined for events it is not shown. */
export function progressEvent(e: BerthEvent): ProgressEvent | undefined {
  if (!SHOWN.has(e.type)) return undefined;
  const data: ProgressEvent['data'] = {};
  for (const field of FIELDS) {
    const value = e.data?.[field];
    if (typeof value === 'string' || typeof value === 'number') Object.assign(data, { [field]: value });
  }
  return { seq: e.seq, at: e.at, type: e.type, ...(e.operation ? { operation: e.operation } : {}), data };
}

const PLAIN: Record<string, string> = {
  IMAGE_MISSING: 'the platform is missing a part your team runs on (a container image)',
  HEALTH_TIMEOUT: 'a service of your team did not start in time',
  RUNTIME_UNAVAILABLE: 'the platform\'s container engine did not answer',
  RUNTIME_ERROR: 'the platform\'s container engine refused to start your team',
  PORT_EXHAUSTED: 'the platform has no room for another team right now',
  PROXY_CONTROL_FAILED: 'your team\'s address could not be switched on',
  TEAM_GONE: 'your team was removed by the platform\'s operators'
};

/** A failed create, for the person who asked for it: what happened, that nothing was left half made, what to do. */
export function failureMessage(code: string): string {
  const what = PLAIN[code] ?? 'something went wrong while setting up your team';
  return `Setting up your team failed: ${what} (${code}). Nothing was left half made. Try again; if it fails again, tell the platform's operators.`;
}

/** Resolves when `operation` ends (history first, so an operation that already ended counts); rejects on failure or after `timeoutMs`. */
export function operationDone(events: EventBus, operation: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ends = (e: BerthEvent) => e.operation === operation && (e.type === 'operation.succeeded' || e.type === 'operation.failed');
    let unsubscribe = () => {};
    const timer = setTimeout(() => finish(undefined, new BerthError('INTERNAL', `operation ${operation} did not end within ${timeoutMs} ms`)), timeoutMs);
    const finish = (e: BerthEvent | undefined, err?: BerthError) => {
      clearTimeout(timer);
      unsubscribe();
      if (err) return reject(err);
      if (e?.type === 'operation.failed') return reject(new BerthError('INTERNAL', `operation ${operation} failed: ${String(e.data?.code ?? '')}`));
      resolve();
    };
    unsubscribe = events.subscribe((e) => ends(e) && finish(e));
    events.history({ operation }).then((past) => {
      const end = past.find(ends);
      if (end) finish(end);
    }, (err: Error) => finish(undefined, new BerthError('DB_UNAVAILABLE', err.message)));
  });
}
