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
    try {
      await this.events.insertOne({ ...event, at: new Date(event.at) });
    } catch (err) {
      // Live subscribers already have it; a lost history line must not fail the operation.
      this.log.warn({ err: (err as Error).message, type: event.type }, 'event not stored');
    } finally {
      this.unstored.delete(event.seq);
    }
    return event;
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
