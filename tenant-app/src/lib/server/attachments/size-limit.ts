import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors';

export function tooLarge(limit: number, size?: number): AppError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return new AppError('TOO_LARGE', `attachments may be at most ${mb(limit)}${size === undefined ? '' : `; this file is ${mb(size)}`}`);
}

/** Passes bytes through and fails the stream as soon as more than `limit` went by. */
export class SizeLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) done(tooLarge(this.limit));
    else done(null, chunk);
  }
}
