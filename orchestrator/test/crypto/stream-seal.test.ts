// Sealed streams open to exactly what went in, at every size around a frame,
// and refuse every damage: a flipped byte, a cut, bytes added, frames swapped,
// another key, and text that was never sealed.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { openStream, sealStream } from '../../src/crypto/stream-seal.js';

const MiB = 1024 * 1024;
const key: Buffer = randomBytes(32);

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
/** Fed in uneven pieces, as a socket or a tar stream would. */
const feed = (data: Buffer<ArrayBufferLike>) => Readable.from((function* () {
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, 1 + Math.floor(Math.random() * 300_000));
    yield data.subarray(at, at + n);
    at += n;
  }
})());
const seal = async (data: Buffer, k = key) => collect(feed(data).pipe(sealStream(k)));
const open = async (sealed: Buffer<ArrayBufferLike>, k = key) => collect(feed(sealed).pipe(openStream(k)));

t.test('round trips at every size around a frame', async (t) => {
  for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3.5 * MiB]) {
    const data = randomBytes(size);
    const sealed = await seal(data);
    t.ok((await open(sealed)).equals(data), `${size} bytes`);
    t.ok(sealed.length < size + 16 + Math.ceil(size / MiB + 1) * 20 + 1, `${size} bytes: ${sealed.length - size} bytes of overhead`);
  }
  t.notOk((await seal(Buffer.from('same'))).equals(await seal(Buffer.from('same'))), 'a fresh nonce each time');
});

t.test('every damage is refused with BACKUP_CORRUPT', async (t) => {
  const data = randomBytes(2.5 * MiB);
  const sealed = await seal(data);
  const frame = 4 + MiB + 16;
  const cases: [string, Buffer<ArrayBufferLike>, Buffer?][] = [
    ['a flipped byte', Buffer.from(sealed.map((b, i) => (i === 5000 ? b ^ 1 : b)))],
    ['cut before its last frame', sealed.subarray(0, 16 + 2 * frame)],
    ['cut inside a frame', sealed.subarray(0, sealed.length - 10)],
    ['bytes added after the end', Buffer.concat([sealed, Buffer.from([0, 0, 0, 0])])],
    ['two frames swapped', Buffer.concat([sealed.subarray(0, 16), sealed.subarray(16 + frame, 16 + 2 * frame), sealed.subarray(16, 16 + frame), sealed.subarray(16 + 2 * frame)])],
    ['another key', sealed, randomBytes(32)],
    ['never sealed (1 MB of text)', Buffer.alloc(MiB, 'a')],
    ['too short for a header', Buffer.from('BERTH')]
  ];
  for (const [why, bytes, other] of cases) {
    await t.rejects(open(bytes, other ?? key), { code: 'BACKUP_CORRUPT' }, why);
  }
  t.throws(() => sealStream(randomBytes(16)), /32 bytes/, 'a short key');
});
