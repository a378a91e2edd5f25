import { MongoClient, type Db } from 'mongodb';
import { BerthError } from '../errors.js';
import { oneWriterAtATime } from './one-writer.js';

export interface Database {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function connectDatabase(url: string, name: string): Promise<Database> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 5000,
    // A query the database never answers fails instead of holding an operation (and its tenant's lock) forever.
    socketTimeoutMS: 60_000,
    appName: 'berth-orchestrator'
  });
  try {
    await client.connect();
    await client.db(name).command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => {});
    throw new BerthError('DB_UNAVAILABLE', `cannot reach the platform database: ${(err as Error).message}`, undefined, { cause: err });
  }
  return { client, db: oneWriterAtATime(client.db(name)), close: () => client.close() };
}

/** MongoDB's duplicate-key error: a unique index refused the write. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}
