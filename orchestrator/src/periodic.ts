// A pass run every interval, one at a time: the reconciler, the sleep policy
// and the backup scheduler loop this way. The next pass is scheduled only
// after the last one ends (a slow pass never overlaps the next), callers that
// ask for a pass while one runs share it, and stop() waits for the pass under
// way, after which none runs.
import type { Logger } from './log.js';

export class Periodic<T> {
  private timer: NodeJS.Timeout | undefined;
  private on = false;
  private pass$: Promise<T> | undefined;

  /** `what` names the loop in its log line when a pass fails. */
  constructor(private readonly run: () => Promise<T>, private readonly intervalMs: number, private readonly log: Logger, private readonly what: string) {}

  get running(): boolean {
    return this.on;
  }

  /** `next` runs each tick: the owner's own pass(), so a wrapper put around it (tests) is what the loop calls. */
  start(next: () => Promise<unknown> = () => this.pass()): void {
    this.on = true;
    const tick = () => {
      // A pass under way when stop() came schedules nothing after it.
      if (!this.on) return;
      this.timer = setTimeout(() => {
        next()
          .catch((err: Error) => this.log.warn({ err: err.message }, `${this.what} pass failed`))
          .finally(tick);
      }, this.intervalMs);
    };
    tick();
  }

  /** Stops the loop and waits for a pass under way: none runs once this resolves. */
  async stop(): Promise<void> {
    this.on = false;
    clearTimeout(this.timer);
    await this.pass$?.catch(() => undefined);
  }

  /** One pass; concurrent callers share the pass in flight. */
  pass(): Promise<T> {
    this.pass$ ??= this.run().finally(() => (this.pass$ = undefined));
    return this.pass$;
  }
}
