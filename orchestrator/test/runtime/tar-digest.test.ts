// The tree digest that proves a moved volume equals the old one, on tars
// written by GNU tar in the formats Docker's engine uses (ustar, PAX for long
// names): equal trees give equal digests whatever their timestamps and however
// the stream is cut; one changed byte, mode or name changes it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TarDigest } from '../../src/runtime/tar-digest.js';

const run = promisify(execFile);

async function tree(dir: string, content = 'hello'): Promise<void> {
  await mkdir(path.join(dir, 'data', 'deep', 'x'.repeat(120)), { recursive: true });
  await writeFile(path.join(dir, 'data', 'a.txt'), content);
  await writeFile(path.join(dir, 'data', 'deep', 'x'.repeat(120), `${'long-name-'.repeat(12)}.bin`), Buffer.alloc(70_000, 7));
  await writeFile(path.join(dir, 'data', 'empty'), '');
}

async function tarOf(dir: string, format: 'pax' | 'gnu'): Promise<Buffer> {
  const { stdout } = await run('tar', ['--format', format, '--sort=name', '-C', dir, '-cf', '-', 'data'], { encoding: 'buffer', maxBuffer: 16 << 20 });
  return stdout as unknown as Buffer;
}

function digestOf(tar: Buffer, chunk = 1 << 16) {
  const d = new TarDigest();
  for (let i = 0; i < tar.length; i += chunk) d.write(tar.subarray(i, i + chunk));
  return d.digest();
}

t.test('equal trees, equal digests; any change shows', async (t) => {
  const a = t.testdir({});
  const b = t.testdir({});
  await tree(a);
  await tree(b);
  await utimes(path.join(b, 'data', 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const da = digestOf(await tarOf(a, 'pax'));
  t.equal(da.entries, 6, 'data/, a.txt, deep/, the long directory, the long file, empty');
  t.equal(da.bytes, 5 + 70_000);
  t.same(digestOf(await tarOf(b, 'pax')), da, 'another modification time is the same data');
  t.same(digestOf(await tarOf(a, 'pax'), 7), da, 'however the stream is cut (7-byte chunks)');
  t.same(digestOf(await tarOf(a, 'gnu')), da, 'GNU long names read the same as PAX ones');

  await writeFile(path.join(b, 'data', 'a.txt'), 'hellO');
  t.not(digestOf(await tarOf(b, 'pax')).sha256, da.sha256, 'one changed byte');
  await writeFile(path.join(b, 'data', 'a.txt'), 'hello');
  await chmod(path.join(b, 'data', 'empty'), 0o600);
  t.not(digestOf(await tarOf(b, 'pax')).sha256, da.sha256, 'a changed mode');
});

t.test('a stream cut short is an error, not a digest', async (t) => {
  const a = t.testdir({});
  await tree(a);
  const tar = await tarOf(a, 'pax');
  t.throws(() => digestOf(tar.subarray(0, 40_000)), /tar stream ended early/);
});
