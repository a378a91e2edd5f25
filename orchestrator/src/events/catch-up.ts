import type { BerthEvent } from './event.schema.js';

/**
 * What a stream that subscribed before reading history sends first: history
 * and the events buffered meanwhile, once each, in seq order. An event is
 * numbered when it is published but stored later, and stores finish out of
 * order, so history may hold seq 12 while 11 is only in the buffer: sending
 * history and then only "buffered above the last seq" lost 11 (a --wait
 * missed its "volumes" step under load).
 */
export function catchUp(history: BerthEvent[], buffered: BerthEvent[]): BerthEvent[] {
  const bySeq = new Map([...history, ...buffered].map((e) => [e.seq, e]));
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
