// The team's MinIO bucket. Uploads do not go through minio-js's putObject:
// for a stream it reads a whole part (at least 64 MiB, i.e. any attachment)
// into memory first (client.mjs: readAsBuffer when size <= partSize). Instead
// the app PUTs the request body straight to a presigned URL with the size
// known up front, so memory stays flat whatever the file's size.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { Client, type BucketItem } from 'minio';
import { config } from './config';

let client: Client | undefined;

/** MinIO refused an object because the bucket's own hard quota (set by the platform) is reached. */
export class BucketQuotaExceeded extends Error {}

export function storage(): Client {
  const { endPoint, port, useSSL, accessKey, secretKey } = config().storage;
  // A fixed region spares a bucket-location request before each presign.
  client ??= new Client({ endPoint, port, useSSL, accessKey, secretKey, region: 'us-east-1' });
  return client;
}

/** Creates the team's bucket when it does not exist yet; safe to repeat. */
export async function ensureBucket(): Promise<void> {
  const { bucket } = config().storage;
  if (!(await storage().bucketExists(bucket))) {
    await storage().makeBucket(bucket, 'us-east-1');
  }
}

export async function checkBucket(): Promise<void> {
  const { bucket } = config().storage;
  if (!(await storage().bucketExists(bucket))) throw new Error(`bucket "${bucket}" does not exist`);
}

/**
 * Streams exactly `size` bytes of `body` into the object `key`. One PUT: if
 * the body fails or ends early the request is destroyed and S3 semantics
 * guarantee no object (not even a partial one) is stored.
 */
export async function putObjectStream(key: string, body: Readable, size: number, contentType: string): Promise<void> {
  const url = new URL(await storage().presignedPutObject(config().storage.bucket, key, 15 * 60));
  const send = url.protocol === 'https:' ? https.request : http.request;
  await new Promise<void>((resolve, reject) => {
    const req = send(url, { method: 'PUT', headers: { 'content-length': size, 'content-type': contentType } }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (answer.length < 2000) answer += chunk;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve();
        else if (answer.includes('<Code>XMinioAdminBucketQuotaExceeded</Code>')) reject(new BucketQuotaExceeded('the bucket quota is reached'));
        else reject(new Error(`storage answered ${res.statusCode}: ${answer.slice(0, 300)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    body.on('error', (err) => {
      req.destroy(err);
      reject(err);
    });
    body.pipe(req);
  });
}

export function getObjectStream(key: string): Promise<Readable> {
  return storage().getObject(config().storage.bucket, key);
}

/**
 * Throws when any object was not removed. minio-js answers those instead of
 * throwing: one entry per failed key, the <Error> elements of S3's
 * DeleteResult (its xml-parser.mjs removeObjectsParser; its type says
 * otherwise), so any entry is a failure.
 */
export async function removeObjects(keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const failed = (await storage().removeObjects(config().storage.bucket, keys)).filter(Boolean) as { Code?: string; Message?: string }[];
  if (failed.length > 0) throw new Error(`${failed.length} of ${keys.length} objects not removed: ${failed[0]!.Code ?? ''} ${failed[0]!.Message ?? ''}`.trim());
}

/** Bytes of every object in the bucket: one listing request per 1,000 objects. */
export async function bucketBytes(): Promise<number> {
  let total = 0;
  for await (const item of storage().listObjectsV2(config().storage.bucket, '', true)) total += (item as BucketItem).size;
  return total;
}

export async function objectExists(key: string): Promise<boolean> {
  try {
    await storage().statObject(config().storage.bucket, key);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'NotFound') return false;
    throw err;
  }
}
