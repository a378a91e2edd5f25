// Every call to the container engine ends within a bound, and so does every
// operation built from such calls. dockerode has no deadline of its own: a
// request the engine never answers (seen under load: a create that produced
// no event for 240 s) would hold a tenant's lock forever.
//
// An operation runs inside an OperationWatch (AsyncLocalStorage), so the
// runtime knows which call an operation is waiting on without any caller
// passing it along; once the operation's deadline passes, the watch is
// aborted and the abandoned work stops at its next runtime call or step.
import { AsyncLocalStorage } from 'node:async_hooks';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from './types.js';

export interface OperationWatch {
  /** The step the operation last reported. */
  step: string;
  /** The runtime call it is waiting on now, e.g. "startContainer berth.acme.app". */
  call?: string;
  /** Set when the operation passed its deadline: the work must not go on. */
  aborted?: BerthError;
}

const watches = new AsyncLocalStorage<OperationWatch>();

/** The watch of the operation this code runs in, if any. */
export function currentWatch(): OperationWatch | undefined {
  return watches.getStore();
}

/** Throws the operation's abort error when its deadline has passed (a cut-short operation changes nothing more). */
export function assertNotAborted(): void {
  const aborted = watches.getStore()?.aborted;
  if (aborted) throw aborted;
}

function timeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work` as an operation with a deadline. When it passes, the operation
 * fails with OPERATION_TIMEOUT naming its step and the call it waited on; the
 * abandoned work gets up to `settleMs` to stop (each runtime call is bounded,
 * so it does) before the caller cleans up, so no late call races the cleanup.
 */
export async function runWithDeadline<T>(watch: OperationWatch, deadlineMs: number, settleMs: number, work: () => Promise<T>): Promise<T> {
  const running = watches.run(watch, work);
  try {
    return await timeout(running, deadlineMs, () => {
      watch.aborted = new BerthError(
        'OPERATION_TIMEOUT',
        `the operation did not end within ${deadlineMs} ms; it was at step "${watch.step}"${watch.call ? `, waiting on ${watch.call}` : ''}`,
        { step: watch.step, ...(watch.call ? { call: watch.call } : {}) }
      );
      return watch.aborted;
    });
  } catch (err) {
    if (err === watch.aborted) await timeout(running.then(() => {}, () => {}), settleMs, () => err as Error).catch(() => {});
    throw err;
  }
}

const SLOW_CALL_MS = 5000;

/** How long each call may take beyond the engine's own wait (a stop's grace period, an exec's own timeout). */
const ownWaitMs: Partial<Record<keyof ContainerRuntime, (...args: never[]) => number>> = {
  stopContainer: (_name: string, timeoutSeconds = 10) => timeoutSeconds * 1000,
  exec: (_name: string, _argv: string[], timeoutMs: number) => timeoutMs
};

function describe(method: string, args: unknown[]): string {
  const first = args[0];
  const target = typeof first === 'string' ? first : (first as { name?: unknown } | undefined)?.name;
  return typeof target === 'string' ? `${method} ${target}` : method;
}

/**
 * The same runtime, every call bounded: RUNTIME_TIMEOUT naming the call when
 * the engine does not answer in `callTimeoutMs` (plus the call's own wait).
 * Inside an operation, the call is recorded on its watch while it runs. A call
 * slower than SLOW_CALL_MS beyond its own wait is logged: the engine is
 * struggling (a loaded host) well before it stops answering.
 */
export function withDeadlines(inner: ContainerRuntime, callTimeoutMs: number, log?: Logger): ContainerRuntime {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const watch = watches.getStore();
        if (watch?.aborted) return Promise.reject(watch.aborted);
        const call = describe(prop, args);
        const ownMs = (ownWaitMs[prop as keyof ContainerRuntime] as ((...a: unknown[]) => number) | undefined)?.(...args) ?? 0;
        const ms = callTimeoutMs + ownMs;
        const began = performance.now();
        const pending = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        // An abandoned call may still fail later: nobody waits for it then.
        pending.catch(() => {});
        if (watch) watch.call = call;
        return timeout(pending, ms, () => new BerthError('RUNTIME_TIMEOUT', `the container engine did not answer ${call} within ${ms} ms`, { call })).finally(() => {
          if (watch?.call === call) watch.call = undefined;
          const took = performance.now() - began;
          if (took - ownMs > SLOW_CALL_MS) log?.warn({ call, ms: Math.round(took), deadlineMs: ms }, 'slow container-engine call');
        });
      };
    }
  });
}
