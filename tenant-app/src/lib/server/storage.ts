import { Client } from 'minio';
import { config } from './config';

let client: Client | undefined;

export function storage(): Client {
  const { endPoint, port, useSSL, accessKey, secretKey } = config().storage;
  client ??= new Client({ endPoint, port, useSSL, accessKey, secretKey });
  return client;
}

/** Creates the team's bucket when it does not exist yet; safe to repeat. */
export async function ensureBucket(): Promise<void> {
  const { bucket } = config().storage;
  if (!(await storage().bucketExists(bucket))) {
    await storage().makeBucket(bucket);
  }
}

export async function checkBucket(): Promise<void> {
  const { bucket } = config().storage;
  if (!(await storage().bucketExists(bucket))) throw new Error(`bucket "${bucket}" does not exist`);
}
