// A pass-through that counts and hashes (SHA-256) the bytes going by: the
// backup records both for each file, and reading it back checks them.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/**
 * `atEnd` sees the totals once the stream ends and may return an error to
 * end it with (reading back: what differs from the manifest).
 */
export function streamHash(atEnd?: (bytes: number, sha256: string) => Error | null): { pass: Transform; bytes: () => number; sha256: () => string } {
  const hash = createHash('sha256');
  let n = 0;
  let digest: string | undefined;
  const sha256 = () => (digest ??= hash.digest('hex'));
  const pass = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      n += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(atEnd?.(n, sha256()) ?? null);
    }
  });
  return { pass, bytes: () => n, sha256 };
}
