import type { BerthEvent, EventBus } from '../../src/events/event-bus.js';

/** Resolves with the event that ends `operation` (succeeded or failed), replaying history first. */
export async function operationEnd(events: EventBus, operation: string, timeoutMs = 120_000): Promise<BerthEvent> {
  return new Promise((resolve, reject) => {
    const done = (e: BerthEvent) => e.operation === operation && (e.type === 'operation.succeeded' || e.type === 'operation.failed');
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`operation ${operation} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (e: BerthEvent) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(e);
    };
    const unsubscribe = events.subscribe((e) => done(e) && finish(e));
    void events.history({ operation }).then((past) => {
      const end = past.find(done);
      if (end) finish(end);
    });
  });
}

/** Polls `check` until it returns a truthy value, with a deadline (never a fixed sleep). */
export async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
