// Every state change and operation step is an event: stored (the tenant's
// history) and pushed to live subscribers (events WebSocket, SSE, --wait).
import { EventEmitter } from 'node:events';
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../log.js';
import type { BerthEvent } from './event.schema.js';

export type { BerthEvent };

export type EventInput = Omit<BerthEvent, 'seq' | 'at'>;

interface EventDoc extends Omit<BerthEvent, 'at'> {
  at: Date;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly events: Collection<EventDoc>;
  private seq = Date.now() * 1000;
  /**
   * Emitted but not yet in the collection (its insert waits its turn): a
   * reader who subscribed and then reads history must find it in one or the
   * other. Without this, an operation that ended a moment before its waiter
   * subscribed was neither live nor in history, and the wait never ended.
   */
  private readonly unstored = new Map<number, BerthEvent>();
  /** Published, waiting for the next insert. */
  private batch: BerthEvent[] = [];
  private flushing: Promise<void> | undefined;
  /** Each stored event's publisher, resolved once its batch is written. */
  private readonly waiting = new Map<number, () => void>();

  constructor(db: Db, private readonly log: Logger) {
    this.events = db.collection<EventDoc>('events');
    this.emitter.setMaxListeners(0);
  }

  async init(): Promise<void> {
    await this.events.createIndex({ tenant: 1, seq: -1 });
    await this.events.createIndex({ operation: 1, seq: 1 });
  }

  /**
   * Numbers and emits the event at once (before any await), then stores it in
   * the history unless `store` is false: samples such as tenant.stats are
   * live-only, or they would push real transitions out of the history.
   */
  async publish(input: EventInput, options: { store?: boolean } = {}): Promise<BerthEvent> {
    const event: BerthEvent = { seq: ++this.seq, at: new Date().toISOString(), ...input };
    if (options.store !== false) this.unstored.set(event.seq, event);
    this.emitter.emit('event', event);
    if (options.store === false) return event;
    await this.store(event);
    return event;
  }

  /**
   * Stores the event with every other one published while the previous batch
   * was being written: one insert per batch, not per event. The platform's
   * writes go one at a time (db/one-writer.ts), so under load an insert per
   * step queued every operation's steps behind each other's history lines.
   */
  private store(event: BerthEvent): Promise<void> {
    this.batch.push(event);
    if (!this.flushing) this.flushing = this.flush();
    return new Promise((resolve) => this.waiting.set(event.seq, resolve));
  }

  private async flush(): Promise<void> {
    // The next batch starts once this one is stored: a publish during the
    // write joins the next insert, so history order is publish order.
    await Promise.resolve();
    while (this.batch.length > 0) {
      const batch = this.batch.splice(0);
      try {
        await this.events.insertMany(batch.map((e) => ({ ...e, at: new Date(e.at) })), { ordered: true });
      } catch (err) {
        // Live subscribers already have them; a lost history line must not fail the operation.
        this.log.warn({ err: (err as Error).message, events: batch.length, types: [...new Set(batch.map((e) => e.type))] }, 'events not stored');
      }
      for (const e of batch) {
        this.unstored.delete(e.seq);
        this.waiting.get(e.seq)?.();
        this.waiting.delete(e.seq);
      }
    }
    this.flushing = undefined;
  }

  subscribe(listener: (event: BerthEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** The newest `limit` events matching `filter`, oldest first, including those still being stored. */
  async history(filter: { tenant?: string; operation?: string }, limit = 100): Promise<BerthEvent[]> {
    // Taken before the read: an event stored (and forgotten here) during the
    // read is in the read; one published after this line reaches subscribers.
    const pending = [...this.unstored.values()].filter((e) => (!filter.tenant || e.tenant === filter.tenant) && (!filter.operation || e.operation === filter.operation));
    const query: Record<string, string> = {};
    if (filter.tenant) query.tenant = filter.tenant;
    if (filter.operation) query.operation = filter.operation;
    const docs = await this.events.find(query, { projection: { _id: 0 } }).sort({ seq: -1 }).limit(limit).toArray();
    const stored = docs.map((d): BerthEvent => ({ ...d, at: d.at.toISOString() }));
    const seen = new Set(stored.map((e) => e.seq));
    return [...stored, ...pending.filter((e) => !seen.has(e.seq))].sort((a, b) => a.seq - b.seq).slice(-limit);
  }
}
