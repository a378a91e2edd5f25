// Writes to the platform database go one at a time: on the real FerretDB
// image (SQLite handler) two writes to one document at once lose one of them,
// and a conditional transition can be undone by a plain $set. The raw driver
// shows the loss (so this test can fail); the wrapped database loses nothing.
import type { Collection } from 'mongodb';
import t from 'tap';
import { oneWriterAtATime } from '../../src/db/one-writer.js';
import { startFerretDb } from '../helpers/ferretdb.js';

const { db: raw } = await startFerretDb('onewriter');

type Doc = { _id: number; x: number; y: number; state: string };
/** Two $set of different fields of one document at once, `tries` times; how many times one was lost. */
async function lostSets(docs: Collection<Doc>, tries: number): Promise<number> {
  await docs.deleteMany({});
  await docs.insertOne({ _id: 1, x: 0, y: 0, state: 'running' });
  let lost = 0;
  for (let i = 1; i <= tries; i++) {
    await Promise.all([docs.updateOne({ _id: 1 }, { $set: { x: i } }), docs.updateOne({ _id: 1 }, { $set: { y: i } })]);
    const doc = await docs.findOne({ _id: 1 });
    if (doc?.x !== i || doc?.y !== i) lost++;
  }
  return lost;
}

/** A conditional running → paused racing a $set of another field; how many times the pause was undone. */
async function undonePauses(docs: Collection<Doc>, tries: number): Promise<number> {
  let undone = 0;
  for (let i = 1; i <= tries; i++) {
    await docs.updateOne({ _id: 1 }, { $set: { state: 'running' } });
    const [moved] = await Promise.all([
      docs.findOneAndUpdate({ _id: 1, state: 'running' }, { $set: { state: 'paused' } }, { returnDocument: 'after' }),
      docs.updateOne({ _id: 1 }, { $set: { y: -i } })
    ]);
    if (moved && (await docs.findOne({ _id: 1 }))?.state !== 'paused') undone++;
  }
  return undone;
}

t.test('the raw driver on FerretDB loses concurrent writes to one document (why the platform needs this)', async (t) => {
  const lost = await lostSets(raw.collection<Doc>('raw'), 100);
  t.comment(`raw: ${lost} of 100 pairs of $set lost one`);
  t.ok(lost > 0, 'the engine under the platform database loses a concurrent update');
});

t.test('through oneWriterAtATime no write is lost and no transition undone', async (t) => {
  const db = oneWriterAtATime(raw);
  t.equal(await lostSets(db.collection<Doc>('wrapped'), 200), 0, 'no $set lost in 200 pairs');
  t.equal(await undonePauses(db.collection<Doc>('wrapped'), 200), 0, 'no conditional transition undone in 200 races');
  t.equal(db.collection('wrapped'), db.collection('wrapped'), 'one wrapper per collection');
  t.equal(db.databaseName, 'onewriter', 'everything else is the database itself');
  // A failed write does not stop the ones queued behind it.
  const docs = db.collection<Doc>('wrapped');
  const [dup, after] = await Promise.allSettled([docs.insertOne({ _id: 1, x: 0, y: 0, state: 'x' }), docs.updateOne({ _id: 1 }, { $set: { state: 'after' } })]);
  t.equal(dup.status, 'rejected', 'a duplicate key is refused');
  t.equal(after.status, 'fulfilled', 'and the next write still runs');
  t.equal((await docs.findOne({ _id: 1 }))?.state, 'after');
});
