// The team's storage quota against real FerretDB and MinIO, with a 2 MiB quota:
// uploads up to it succeed, the one that would cross it gets 413 naming use and
// quota and leaves no object, earlier files still download, deletes make room,
// uploads at once cannot pass it together, a restarted app counts the bucket,
// and MinIO's own bucket quota (set with the probe the platform uses) holds
// when the app is bypassed, its refusal reaching members as the same 413.
import t from 'tap';
import { createHash } from 'node:crypto';
import type { Client } from 'minio';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { seedMember, signIn, type MemberSession } from './helpers/client.js';
import { generated, minioClient, newItem, objectKeys, upload } from './helpers/files.js';
import { runtime, startServices, type Services } from './helpers/services.js';

const KB = 1024;
const MB = 1024 * 1024;
const QUOTA = 2 * MB;
const BUCKET = 'quota-files';
let services: Services;
let env: Record<string, string>;
let app: RunningApp;
let minio: Client;
let ben: MemberSession;
let itemId: string;

interface Attachment { id: string; size: number }

t.before(async () => {
  services = await startServices('quota');
  env = { ...stackEnv(services, 'team', BUCKET), STORAGE_QUOTA_BYTES: String(QUOTA) };
  await seedMember(env.MONGO_URL!, 'ben@example.com', 'ben password 1', 'owner');
  app = await startApp(env);
  ben = await signIn(app.url, 'ben@example.com', 'ben password 1');
  minio = minioClient(services);
  itemId = await newItem(ben, 'Files');
});

t.teardown(async () => {
  await app?.stop();
  await services?.stop();
});

const files = new Map<string, { id: string; digest: string }>();

async function put(name: string, size: number, who = ben): Promise<Response> {
  const { stream, digest } = generated(size, name);
  const res = await upload(who, itemId, name, stream, size);
  if (res.status === 201) files.set(name, { id: ((await res.clone().json()) as { attachment: Attachment }).attachment.id, digest: await digest });
  return res;
}

async function sha256Of(res: Response): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

const keys = () => objectKeys(minio, BUCKET, `items/${itemId}/`);

t.test('uploads up to the quota succeed; the one that would cross it gets 413 naming use and quota, and stores nothing', async (t) => {
  t.same(await storageUse(), { usedBytes: 0, quotaBytes: QUOTA }, 'the app reports its use against the quota');
  t.equal((await put('one.bin', 1 * MB)).status, 201, '1.0 MB of 2.0 MB');
  t.equal((await put('two.bin', 512 * KB)).status, 201, '1.5 MB of 2.0 MB');
  const before = await keys();

  const crossing = await put('three.bin', 800 * KB);
  t.equal(crossing.status, 413, 'refused');
  const body = (await crossing.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'STORAGE_FULL');
  t.equal(body.error.message, "your team's storage is full: 1.5 MB of 2.0 MB used; this file is 800.0 KB. Delete files to make room.");
  t.same(await keys(), before, 'no object was added, not even a partial one');
  const list = (await (await ben.fetch(`/api/items/${itemId}/attachments`)).json()) as { attachments: Attachment[] };
  t.equal(list.attachments.length, 2, 'and no record');

  t.equal((await put('exact.bin', 512 * KB)).status, 201, 'filling it to exactly 2.0 MB is allowed');
  t.same(await storageUse(), { usedBytes: QUOTA, quotaBytes: QUOTA });
  const full = await put('byte.bin', 1);
  t.equal(full.status, 413, 'one byte more is not');
  t.match(await full.json(), { error: { message: /^your team's storage is full: 2\.0 MB of 2\.0 MB used; this file is 1 B/ } });

  for (const name of ['one.bin', 'two.bin', 'exact.bin']) {
    const file = files.get(name)!;
    const res = await ben.fetch(`/api/items/${itemId}/attachments/${file.id}`);
    t.equal(res.status, 200, `${name} still downloads`);
    t.equal(await sha256Of(res), file.digest, `${name}: the same bytes`);
  }
});

t.test('deleting a file makes room for as much again', async (t) => {
  const one = files.get('one.bin')!;
  t.equal((await ben.fetch(`/api/items/${itemId}/attachments/${one.id}`, { method: 'DELETE' })).status, 204);
  t.equal((await put('again.bin', 1 * MB)).status, 201, 'the freed 1.0 MB is usable again');
  t.equal((await put('more.bin', 1)).status, 413, 'and the quota is full again');
});

t.test('uploads at once cannot pass the quota together: the first reserves its size before its body arrives', async (t) => {
  const again = files.get('again.bin')!;
  t.equal((await ben.fetch(`/api/items/${itemId}/attachments/${again.id}`, { method: 'DELETE' })).status, 204, '1.0 MB free');
  // The first upload sends part of its body and then waits: it is in flight
  // while the second one asks for room.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const size = 600 * KB;
  let sent = 0;
  const slow = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 64 * KB) await held;
      if (sent >= size) return controller.close();
      const n = Math.min(64 * KB, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n));
    }
  });
  const first = upload(ben, itemId, 'first.bin', slow, size);
  // The app's own figure counts it from the moment its room is reserved.
  await until(async () => (await storageUse()).usedBytes === 1 * MB + size);
  t.pass('the first upload holds its room');
  const second = await put('second.bin', size);
  t.equal(second.status, 413, 'the second is refused while the first holds its room');
  t.match(await second.json(), { error: { message: /1\.6 MB of 2\.0 MB used; this file is 600\.0 KB/ } });
  release();
  t.equal((await first).status, 201, 'the first completes');
});

t.test('a restarted app counts the bucket: the quota holds across restarts', async (t) => {
  await app.stop();
  app = await startApp(env);
  ben = await signIn(app.url, 'ben@example.com', 'ben password 1');
  const res = await put('after-restart.bin', 500 * KB);
  t.equal(res.status, 413);
  t.match(await res.json(), { error: { message: /1\.6 MB of 2\.0 MB used/ } }, 'the use is read back from the bucket');
  t.equal((await put('fits.bin', 400 * KB)).status, 201, 'what fits still goes in');
});

t.test('the platform\'s probe sets MinIO\'s own hard quota: the app bypassed, an object past it is refused', async (t) => {
  const setQuota = (bytes: number) => runtime.exec(services.names.storage, ['berth-probe', 'minio-quota', 'http://127.0.0.1:9000', BUCKET, String(bytes)], 10_000);
  t.match(await setQuota(QUOTA), { exitCode: 0 }, 'set with the root credentials of the container');
  // MinIO checks the object alone at once; the bucket's total once its scanner has counted it.
  const direct = Buffer.alloc(QUOTA + 1);
  await t.rejects(minio.putObject(BUCKET, 'items/bypass/direct.bin', direct, direct.length), { code: 'XMinioAdminBucketQuotaExceeded' }, 'MinIO refuses it');
  t.same(await objectKeys(minio, BUCKET, 'items/bypass/'), [], 'and stores nothing');

  // The app's own figures allow the file, MinIO's quota does not: its refusal
  // reaches the member as the same 413, with the app's figures.
  const two = files.get('two.bin')!;
  t.equal((await ben.fetch(`/api/items/${itemId}/attachments/${two.id}`, { method: 'DELETE' })).status, 204, 'room in the app: 1.5 MB used');
  t.match(await setQuota(100 * KB), { exitCode: 0 });
  const other = await newItem(ben, 'Other');
  const refused = await upload(ben, other, 'small.bin', Buffer.alloc(150 * KB), 150 * KB);
  t.equal(refused.status, 413);
  t.match(await refused.json(), { error: { code: 'STORAGE_FULL', message: /^your team's storage is full: 1\.5 MB of 2\.0 MB used; this file is 150\.0 KB/ } });
  t.same(await objectKeys(minio, BUCKET, `items/${other}/`), [], 'nothing stored');

  const bad = await runtime.exec(services.names.storage, ['berth-probe', 'minio-quota', 'http://127.0.0.1:9000', 'no-such-bucket', '1000'], 10_000);
  t.not(bad.exitCode, 0, 'a quota for a bucket that does not exist fails loudly');
  t.match(bad.output, /set-bucket-quota no-such-bucket: 404/);
});

t.test('the probe measures the bytes under /data without asking the app', async (t) => {
  let objects = 0;
  for await (const obj of minio.listObjectsV2(BUCKET, '', true)) objects += obj.size ?? 0;
  const { exitCode, output } = await runtime.exec(services.names.storage, ['berth-probe', 'du', '/data', '.minio.sys'], 10_000);
  t.equal(exitCode, 0);
  const bytes = Number(output.trim());
  t.comment(`du: ${bytes} bytes on disk for ${objects} bytes of objects`);
  t.ok(bytes >= objects && bytes < objects + 64 * KB, 'the objects plus MinIO\'s few bytes of metadata each; deleted ones (in .minio.sys\'s trash) left out');
  const all = Number((await runtime.exec(services.names.storage, ['berth-probe', 'du', '/data'], 10_000)).output.trim());
  t.ok(all > bytes, `without the skip: ${all} bytes, MinIO's own files too`);
});

async function storageUse(): Promise<{ usedBytes: number; quotaBytes: number }> {
  return ((await (await ben.fetch('/api/storage')).json()) as { storage: { usedBytes: number; quotaBytes: number } }).storage;
}

/** Polls with a deadline. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
