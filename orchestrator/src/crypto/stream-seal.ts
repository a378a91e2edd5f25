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

/**
 * Bytes gathered from a stream's chunks without copying each time one comes
 * (a frame is up to 1 MiB, and chunks are 64 KiB: concatenating on every
 * chunk would copy each byte sixteen times).
 */
class Gather {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first n bytes, removed (one copy at most). */
  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return all.subarray(0, n);
  }

  /** The first n bytes, left in place. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    return all.subarray(0, n);
  }
}

/** Receives each frame's authentication tag, in order (a file's checksum: backups/backup-maker.ts). */
export type TagSink = (tag: Buffer) => void;

/** Seals what passes through; `tags` sees each frame's tag. */
export function sealStream(key: Buffer, tags?: TagSink): Transform {
  checkKey(key);
  const prefix = randomBytes(8);
  let n = 0;
  const pending = new Gather();
  const frame = (plain: Buffer, last: boolean): Buffer[] => {
    if (n >= 0xffff_ffff) throw new Error('too many frames for one stream');
    const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, n));
    cipher.setAAD(aad(n, last));
    const head = Buffer.alloc(4);
    head.writeUInt32BE((plain.length | (last ? LAST : 0)) >>> 0);
    const body = cipher.update(plain);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    tags?.(tag);
    n++;
    return [head, body, tail, tag];
  };
  let started = false;
  return new Transform({
    // Frames go out as they are sealed, in pieces: no copy to join them.
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) this.push(Buffer.concat([MAGIC, prefix])), (started = true);
      pending.push(chunk);
      // A full frame is sealed only once more data follows: the last one must carry the flag.
      while (pending.length > FRAME) for (const part of frame(pending.take(FRAME), false)) if (part.length) this.push(part);
      done();
    },
    flush(done: TransformCallback) {
      if (!started) this.push(Buffer.concat([MAGIC, prefix]));
      for (const part of frame(pending.take(pending.length), true)) if (part.length) this.push(part);
      done();
    }
  });
}

/** Opens a sealed stream; fails (BACKUP_CORRUPT) on any altered, missing or extra byte. `tags` sees each frame's tag. */
export function openStream(key: Buffer, tags?: TagSink): Transform {
  checkKey(key);
  const buf = new Gather();
  let prefix: Buffer | undefined;
  let n = 0;
  let ended = false;
  const corrupt = (why: string) => new BerthError('BACKUP_CORRUPT', `the sealed data is damaged or was sealed with another key: ${why}`);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      buf.push(chunk);
      try {
        if (!prefix) {
          if (buf.length < 16) return done();
          const head = buf.take(16);
          if (!head.subarray(0, 8).equals(MAGIC)) throw corrupt('not a Berth sealed stream');
          prefix = Buffer.from(head.subarray(8, 16));
        }
        for (;;) {
          if (buf.length < 4) break;
          if (ended) throw corrupt('data after the last frame');
          const head = buf.peek(4).readUInt32BE(0);
          const last = (head & LAST) !== 0;
          const len = head & ~LAST & 0x7fff_ffff;
          if (len > FRAME) throw corrupt(`a frame of ${len} bytes`);
          if (buf.length < 4 + len + TAG) break;
          const whole = buf.take(4 + len + TAG);
          const decipher = createDecipheriv('aes-256-gcm', key, nonce(prefix, n));
          decipher.setAAD(aad(n, last));
          const tag = whole.subarray(4 + len);
          decipher.setAuthTag(tag);
          const body = decipher.update(whole.subarray(4, 4 + len));
          decipher.final();
          tags?.(tag);
          n++;
          ended = last;
          if (body.length) this.push(body);
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
