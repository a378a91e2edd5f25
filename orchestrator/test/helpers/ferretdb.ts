// A database of its own for a test that needs only the database: the real
// FerretDB image, published on 127.0.0.1, removed (with its volume) at teardown.
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import t from 'tap';
import { config, docker } from './docker.js';
import { until } from './wait.js';

export async function startFerretDb(tag: string): Promise<{ db: Db; url: string }> {
  const name = `berth-test-${tag}-${randomBytes(3).toString('hex')}`;
  await docker('run', '-d', '--name', name, '-p', '127.0.0.1::27017', '-e', 'FERRETDB_LISTEN_ADDR=:27017', '--label', `berth.test=${tag}`, config.images.db);
  t.teardown(async () => {
    await docker('rm', '-f', '-v', name).catch(() => '');
  });
  const port = (await docker('port', name, '27017/tcp')).trim().split('\n')[0]!.split(':').pop();
  const url = `mongodb://127.0.0.1:${port}/`;
  const connected = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
  t.teardown(() => connected.close().catch(() => {}));
  await until(async () => connected.connect().then(() => true, () => false), 30_000, 'FerretDB answering');
  return { db: connected.db(tag.replace(/[^a-z0-9]/gi, '_')), url };
}
