// Large data sealed with AES-256-GCM as a stream: a team's backup is
// hundreds of megabytes, more than one GCM message should carry and more
// than memory should hold. The stream is cut into frames of at most 1 MiB,
// each sealed on its own with a nonce made of a random prefix and the frame's
// number, and with the number and a last-frame flag as associated data: a
// frame moved, dropped, repeated or altered fails to open, and so does a
// stream cut short (its last frame, always written, is missing).
//
// Layout: "BERTHSB1" | nonce prefix (8 bytes) | frames: length (u32 BE, the
// top bit set on the last) | ciphertext | tag (16 bytes).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../errors.js';

const MAGIC = Buffer.from('BERTHSB1');
const FRAME = 1024 * 1024;
const TAG = 16;
const LAST = 0x8000_0000;

const aad = (n: number, last: boolean) => {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(n);
  b[4] = last ? 1 : 0;
  return b;
};
const nonce = (prefix: Buffer, n: number) => {
  const b = Buffer.alloc(12);
  prefix.copy(b, 0);
  b.writeUInt32BE(n, 8);
  return b;
};

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new Error('a sealing key is 32 bytes');
}

/** Seals what passes through. */
export function sealStream(key: Buffer): Transform {
  checkKey(key);
  const prefix = randomBytes(8);
  let n = 0;
  let pending: Buffer = Buffer.alloc(0);
  const frame = (plain: Buffer, last: boolean): Buffer => {
    if (n >= 0xffff_ffff) throw new Error('too many frames for one stream');
    const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, n));
    cipher.setAAD(aad(n, last));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE((plain.length | (last ? LAST : 0)) >>> 0);
    n++;
    return Buffer.concat([head, body, cipher.getAuthTag()]);
  };
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) this.push(Buffer.concat([MAGIC, prefix])), (started = true);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      // A full frame is sealed only once more data follows: the last one must carry the flag.
      while (pending.length > FRAME) {
        this.push(frame(pending.subarray(0, FRAME), false));
        pending = pending.subarray(FRAME);
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!started) this.push(Buffer.concat([MAGIC, prefix]));
      this.push(frame(pending, true));
      done();
    }
  });
}

/** Opens a sealed stream; fails (BACKUP_CORRUPT) on any altered, missing or extra byte. */
export function openStream(key: Buffer): Transform {
  checkKey(key);
  let buf: Buffer = Buffer.alloc(0);
  let prefix: Buffer | undefined;
  let n = 0;
  let ended = false;
  const corrupt = (why: string) => new BerthError('BACKUP_CORRUPT', `the sealed data is damaged or was sealed with another key: ${why}`);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        if (!prefix) {
          if (buf.length < 16) return done();
          if (!buf.subarray(0, 8).equals(MAGIC)) throw corrupt('not a Berth sealed stream');
          prefix = Buffer.from(buf.subarray(8, 16));
          buf = buf.subarray(16);
        }
        for (;;) {
          if (buf.length < 4) break;
          if (ended) throw corrupt('data after the last frame');
          const head = buf.readUInt32BE(0);
          const last = (head & LAST) !== 0;
          const len = head & ~LAST & 0x7fff_ffff;
          if (len > FRAME) throw corrupt(`a frame of ${len} bytes`);
          if (buf.length < 4 + len + TAG) break;
          const decipher = createDecipheriv('aes-256-gcm', key, nonce(prefix, n));
          decipher.setAAD(aad(n, last));
          decipher.setAuthTag(buf.subarray(4 + len, 4 + len + TAG));
          const plain = Buffer.concat([decipher.update(buf.subarray(4, 4 + len)), decipher.final()]);
          buf = buf.subarray(4 + len + TAG);
          n++;
          ended = last;
          if (plain.length) this.push(plain);
        }
        done();
      } catch (err) {
        done(err instanceof BerthError ? err : corrupt(`frame ${n} does not open`));
      }
    },
    flush(done: TransformCallback) {
      if (!ended || buf.length > 0) return done(corrupt(ended ? 'data after the last frame' : 'it ends before its last frame'));
      done();
    }
  });
}
