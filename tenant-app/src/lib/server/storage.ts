// The team's MinIO bucket. Uploads do not go through minio-js's putObject:
// for a stream it reads a whole part (at least 64 MiB, i.e. any attachment)
// into memory first (client.mjs: readAsBuffer when size <= partSize). Instead
// the app PUTs the request body straight to a presigned URL with the size
// known up front, so memory stays flat whatever the file's size.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import { config } from './config';

let client: Client | undefined;

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
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`storage answered ${res.statusCode}: ${answer.slice(0, 300)}`))));
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

export async function removeObjects(keys: string[]): Promise<void> {
  if (keys.length > 0) await storage().removeObjects(config().storage.bucket, keys);
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
