// Reading a backup back: its manifest, and each volume's tar opened from its
// sealed file. Every frame's tag is checked as it opens (a changed, missing,
// added or reordered byte fails it), and at the end the file's size, the
// SHA-256 of its tags and the tar's entry and byte counts are compared with
// the manifest. A restore reads through here, so nothing damaged is ever
// unpacked unchecked.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors.js';
import { openStream } from '../crypto/stream-seal.js';
import { TarDigest } from '../runtime/tar-digest.js';
import type { TreeDigest } from '../runtime/types.js';
import { FORMAT, MANIFEST, type BackupManifest } from './backup-maker.js';
import type { BackupTarget } from './backup-target.js';

const MAX_MANIFEST = 1024 * 1024;

export async function readManifest(target: BackupTarget, tenant: string, id: string): Promise<BackupManifest> {
  const stream = await target.get(`${tenant}/${id}/${MANIFEST}`);
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > MAX_MANIFEST) throw new BerthError('BACKUP_CORRUPT', `the manifest of ${tenant}/${id} is over 1 MB`);
  }
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new BerthError('BACKUP_CORRUPT', `the manifest of ${tenant}/${id} is not JSON`);
  }
  if (m.format !== FORMAT || m.tenant !== tenant || m.id !== id || !Array.isArray(m.volumes)) {
    throw new BerthError('BACKUP_CORRUPT', `the manifest of ${tenant}/${id} is not a ${FORMAT} manifest of that backup`);
  }
  return m;
}

/**
 * One volume's tar, opened and checked while `consume` reads it; throws
 * BACKUP_CORRUPT at the first difference. Returns the digest of the tree it
 * read (every path, mode, owner and content): a restore compares it with the
 * volume it wrote.
 */
export async function readVolume(target: BackupTarget, m: BackupManifest, volume: string, key: Buffer, consume: (tar: Readable) => Promise<void>): Promise<TreeDigest> {
  const v = m.volumes.find((x) => x.volume === volume);
  if (!v) throw new BerthError('BACKUP_CORRUPT', `backup ${m.tenant}/${m.id} has no volume ${volume}`);
  const sealed = await target.get(`${m.tenant}/${m.id}/${v.file}`);
  const tree = new TarDigest();
  const tags = createHash('sha256');
  let sealedBytes = 0;
  let tarBytes = 0;
  sealed.on('data', (chunk: Buffer) => (sealedBytes += chunk.length));
  // Counted inside the pipeline, not by a listener on `plain`: a listener would
  // set it flowing before `consume` is ready to read, and bytes would be lost.
  const count = new Transform({
    transform(chunk: Buffer, _e, done) {
      tree.write(chunk);
      tarBytes += chunk.length;
      done(null, chunk);
    }
  });
  const plain = new PassThrough();
  // One pipeline: a damaged byte at any stage ends it, and `consume` sees the error on its stream.
  await Promise.all([pipeline(sealed, openStream(key, (tag) => tags.update(tag)), count, plain), consume(plain)]);
  const differs = (what: string) => new BerthError('BACKUP_CORRUPT', `${what} of ${volume} differs from the manifest of ${m.tenant}/${m.id}`);
  if (sealedBytes !== v.sealedBytes) throw differs(`the size of the sealed file (${sealedBytes} bytes, not ${v.sealedBytes})`);
  if (tags.digest('hex') !== v.tagsSha256) throw differs('the checksum of the sealed file');
  const got = tree.digest();
  if (tarBytes !== v.tarBytes || got.entries !== v.entries || got.bytes !== v.bytes) throw differs(`the tar (${got.entries} entries, ${got.bytes} bytes; the manifest has ${v.entries}, ${v.bytes})`);
  return got;
}

/** Reads every volume of the backup through its checks without keeping anything. */
export async function verifyBackup(target: BackupTarget, m: BackupManifest, key: Buffer): Promise<void> {
  for (const v of m.volumes) {
    await readVolume(target, m, v.volume, key, (tar) => pipeline(tar, new Writable({ write: (_c, _e, done) => done() })));
  }
}
