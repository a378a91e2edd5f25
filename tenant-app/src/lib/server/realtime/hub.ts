// Board changes fan out to every open event stream of this instance. One app
// instance serves one team and FerretDB has no change streams, so the hub is
// in memory and fed by the app's own writes.
import type { BoardEvent } from '../board/board.types';

type Listener = (event: BoardEvent) => void;

const listeners = new Set<Listener>();
const closers = new Set<() => void>();

export const hub = {
  publish(event: BoardEvent): void {
    for (const listener of listeners) listener(event);
  },
  /** Returns the unsubscribe function; onClose runs when the app shuts down. */
  subscribe(listener: Listener, onClose: () => void): () => void {
    listeners.add(listener);
    closers.add(onClose);
    return () => {
      listeners.delete(listener);
      closers.delete(onClose);
    };
  },
  get size(): number {
    return listeners.size;
  },
  /** On SIGTERM: streams never finish on their own and would hold shutdown until its timeout. */
  closeAll(): void {
    for (const close of [...closers]) close();
  }
};
