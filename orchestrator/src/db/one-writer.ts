// FerretDB's SQLite handler (the engine under the platform database) applies
// an update as read, change, write back, outside any transaction: two writes
// to one document at once lose one of them, and a conditional write (an
// operation lock, a job's pause) can be undone by a plain $set that read the
// document before it. Measured on berth/ferretdb 1.24: two concurrent $set of
// different fields lost one in 296 of 300 tries (FerretDB issue #3040). So the
// platform sends its writes one at a time; reads still run side by side.
import type { Collection, Db, Document } from 'mongodb';

const WRITES = new Set<PropertyKey>([
  'insertOne', 'insertMany', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany',
  'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete', 'bulkWrite'
]);

/** The same database, except that every write to any of its collections waits for the one before it. */
export function oneWriterAtATime(db: Db): Db {
  let tail: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const mine = tail.then(work, work);
    tail = mine.catch(() => {});
    return mine;
  };
  const wrapped = new Map<string, Collection<Document>>();
  const wrap = (collection: Collection<Document>): Collection<Document> =>
    new Proxy(collection, {
      get(target, prop) {
        // The driver's classes keep private fields: methods run on the target itself.
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        return WRITES.has(prop) ? (...args: unknown[]) => inTurn(() => method.apply(target, args) as Promise<unknown>) : method.bind(target);
      }
    });
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== 'collection') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return (name: string) => {
        let collection = wrapped.get(name);
        if (!collection) wrapped.set(name, (collection = wrap(target.collection(name))));
        return collection;
      };
    }
  });
}
