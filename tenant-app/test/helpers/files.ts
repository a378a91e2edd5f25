// Board items and their files, as a member's browser makes them; and the
// team's bucket read straight from MinIO, to see what the app really stored.
import { createHash } from 'node:crypto';
import { Client } from 'minio';
import type { MemberSession } from './client.js';
import type { Services } from './services.js';

export async function newItem(who: MemberSession, title: string): Promise<string> {
  const res = await who.json('POST', '/api/items', { title });
  return ((await res.json()) as { item: { id: string } }).item.id;
}

/** A body of `size` bytes produced chunk by chunk, never held whole by the test either. */
export function generated(size: number, seed: string): { stream: ReadableStream<Uint8Array>; digest: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let finish: (d: string) => void = () => {};
  const digest = new Promise<string>((resolve) => (finish = resolve));
  const block = createHash('sha512').update(seed).digest();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) {
        finish(hash.digest('hex'));
        controller.close();
        return;
      }
      const n = Math.min(256 * 1024, size - sent);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i += block.length) block.copy(chunk, i, 0, Math.min(block.length, n - i));
      if (n >= 4) chunk.writeUInt32BE(sent % 2 ** 32, 0);
      hash.update(chunk);
      sent += n;
      controller.enqueue(chunk);
    }
  });
  return { stream, digest };
}

/** The board's upload: the file as the raw body, its size in Content-Length. */
export function upload(who: MemberSession, itemId: string, name: string, body: BodyInit, size: number): Promise<Response> {
  return who.fetch(`/api/items/${itemId}/attachments?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
    duplex: 'half'
  } as RequestInit);
}

export function minioClient(services: Services): Client {
  const endpoint = new URL(services.minio.endpoint);
  return new Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey: services.minio.accessKey, secretKey: services.minio.secretKey, region: 'us-east-1' });
}

/** Every object key in the bucket under `prefix`. */
export async function objectKeys(minio: Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const obj of minio.listObjectsV2(bucket, prefix, true)) if (obj.name) keys.push(obj.name);
  return keys;
}
