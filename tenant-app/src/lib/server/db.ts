import { MongoClient, type Db } from 'mongodb';
import { config } from './config';

let client: MongoClient | undefined;

export function mongo(): MongoClient {
  const { mongoUrl, checkTimeoutMs } = config();
  // A short server-selection timeout makes a dead database show up in
  // /healthz within the probe's budget instead of after the driver's 30 s.
  client ??= new MongoClient(mongoUrl, { serverSelectionTimeoutMS: checkTimeoutMs, appName: 'berth-tenant-app' });
  return client;
}

export function db(): Db {
  return mongo().db();
}

export async function pingDb(): Promise<void> {
  await db().command({ ping: 1 });
}

export async function closeDb(): Promise<void> {
  await client?.close();
  client = undefined;
}
