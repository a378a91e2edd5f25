// Digest of a tar stream as the Docker engine writes it (Go's archive/tar:
// ustar headers, PAX records for long names and large values), read as it
// streams past: every entry's path, type, permission bits, owner, size, link
// target and content, in order. Modification times are left out: two copies
// of a tree are the same data whatever their timestamps say.
import { createHash, type Hash } from 'node:crypto';
import type { TreeDigest } from './types.js';

const BLOCK = 512;

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
}

export class TarDigest {
  private readonly hash: Hash = createHash('sha256');
  /** `content: false`: entries and their metadata only, the content counted but not hashed (a backup's file count, cheaply). */
  constructor(private readonly options: { content: boolean } = { content: true }) {}

  private carry: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry still to read, then its padding to skip. */
  private left = 0;
  private skip = 0;
  /** The current entry's body is metadata for the next one (PAX, GNU long name). */
  private meta: { kind: string; chunks: Buffer[] } | undefined;
  private pending: Pending = {};
  private ended = false;
  private entries = 0;
  private bytes = 0;

  write(chunk: Buffer): void {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = 0;
    while (!this.ended && at < data.length) {
      if (this.left > 0) {
        const take = Math.min(this.left, data.length - at);
        const part = data.subarray(at, at + take);
        if (this.meta) this.meta.chunks.push(Buffer.from(part));
        else if (this.options.content) this.hash.update(part);
        this.left -= take;
        at += take;
        if (this.left === 0 && this.meta) this.endMeta();
      } else if (this.skip > 0) {
        const take = Math.min(this.skip, data.length - at);
        this.skip -= take;
        at += take;
      } else {
        if (data.length - at < BLOCK) break;
        this.header(data.subarray(at, at + BLOCK));
        at += BLOCK;
      }
    }
    this.carry = at < data.length && !this.ended ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
  }

  digest(): TreeDigest {
    if (!this.ended || this.left > 0) throw new Error('tar stream ended early');
    return { entries: this.entries, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const type = String.fromCharCode(block[156] || 0x30);
    const size = numberAt(block, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      this.meta = { kind: type, chunks: [] };
      this.left = size;
      this.skip = pad(size);
      if (size === 0) this.endMeta();
      return;
    }
    const prefix = text(block, 345, 155);
    const p = this.pending;
    const entry = {
      path: p.path ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100)),
      type,
      mode: numberAt(block, 100, 8) & 0o7777,
      uid: p.uid ?? numberAt(block, 108, 8),
      gid: p.gid ?? numberAt(block, 116, 8),
      size: p.size ?? size,
      link: p.linkpath ?? text(block, 157, 100)
    };
    this.pending = {};
    this.hash.update(`${JSON.stringify(entry)}\n`);
    this.entries++;
    this.bytes += entry.size;
    this.left = entry.size;
    this.skip = pad(entry.size);
  }

  private endMeta(): void {
    const { kind, chunks } = this.meta!;
    this.meta = undefined;
    const body = Buffer.concat(chunks).toString('utf8');
    if (kind === 'L') this.pending.path = body.replace(/\0+$/, '');
    else if (kind === 'K') this.pending.linkpath = body.replace(/\0+$/, '');
    else if (kind === 'x') {
      // Records are "<length> <key>=<value>\n".
      for (const record of body.split('\n')) {
        const match = /^\d+ ([^=]+)=(.*)$/s.exec(record);
        if (!match) continue;
        const [, key, value] = match as unknown as [string, string, string];
        if (key === 'path') this.pending.path = value;
        else if (key === 'linkpath') this.pending.linkpath = value;
        else if (key === 'size' || key === 'uid' || key === 'gid') this.pending[key] = Number(value);
      }
    }
  }
}

const pad = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function text(block: Buffer, at: number, length: number): string {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Octal, or base-256 when the first byte's high bit is set (GNU, for values too large for octal). */
function numberAt(block: Buffer, at: number, length: number): number {
  const field = block.subarray(at, at + length);
  if ((field[0] ?? 0) & 0x80) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = field.toString('ascii').replace(/[\0 ]/g, '');
  return digits ? Number.parseInt(digits, 8) : 0;
}
