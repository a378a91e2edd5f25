// FerretDB (the team's database) applies an update as read, change, write
// back, outside any transaction: two $inc of one document at once can lose
// one (the platform measured it for its own database, orchestrator's
// db/one-writer.ts). The app is its team's only writer, so the counters it
// increments take their turn within the process.

/** A queue: each call's work starts when the one before it has ended, failed or not. */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const mine = tail.then(work, work);
    tail = mine.catch(() => {});
    return mine;
  };
}

/**
 * An upsert whose first write may race another process's (an upgrade runs two
 * apps for a moment): all but one insert meet a duplicate key (E11000), and
 * the document exists then, so the write is simply made again.
 */
export function againOnDuplicate<T>(write: () => Promise<T>): Promise<T> {
  return write().catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err;
    return write();
  });
}
