// Reading a backup back: its manifest, and each volume's tar opened from its
// sealed file, checked against the manifest's checksums as it streams. A
// restore reads through here, so nothing damaged is ever unpacked unchecked.
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors.js';
import { openStream } from '../crypto/stream-seal.js';
import { TarDigest } from '../runtime/tar-digest.js';
import { FORMAT, MANIFEST, type BackupManifest } from './backup-maker.js';
import type { BackupTarget } from './backup-target.js';
import { streamHash } from './stream-hash.js';

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

/** Passes the bytes on and fails at their end when their size or SHA-256 differ from the manifest's. */
const expect = (what: string, sha256: string, bytes: number) =>
  streamHash((n, got) => (got === sha256 && n === bytes ? null : new BerthError('BACKUP_CORRUPT', `${what} differs from its manifest (${n} bytes, sha256 ${got.slice(0, 12)}…; expected ${bytes} bytes, ${sha256.slice(0, 12)}…)`))).pass;

/** One volume's tar, opened and checked (sealed file, tar, tree) while `consume` reads it; throws BACKUP_CORRUPT at the first difference. */
export async function readVolume(target: BackupTarget, m: BackupManifest, volume: string, key: Buffer, consume: (tar: Readable) => Promise<void>): Promise<void> {
  const v = m.volumes.find((x) => x.volume === volume);
  if (!v) throw new BerthError('BACKUP_CORRUPT', `backup ${m.tenant}/${m.id} has no volume ${volume}`);
  const sealed = await target.get(`${m.tenant}/${m.id}/${v.file}`);
  const tree = new TarDigest();
  const tar = expect(`the tar of ${volume}`, v.tarSha256, v.tarBytes);
  tar.on('data', (chunk: Buffer) => tree.write(chunk));
  const plain = new PassThrough();
  // One pipeline: a damaged byte at any stage ends it, and `consume` sees the error on its stream.
  await Promise.all([pipeline(sealed, expect(`the sealed file of ${volume}`, v.sealedSha256, v.sealedBytes), openStream(key), tar, plain), consume(plain)]);
  const got = tree.digest();
  if (got.sha256 !== v.tree.sha256 || got.entries !== v.tree.entries) throw new BerthError('BACKUP_CORRUPT', `the files of ${volume} differ from the manifest's tree`);
}

/** Reads every volume of the backup through its checks without keeping anything. */
export async function verifyBackup(target: BackupTarget, m: BackupManifest, key: Buffer): Promise<void> {
  for (const v of m.volumes) {
    await readVolume(target, m, v.volume, key, (tar) => pipeline(tar, new Writable({ write: (_c, _e, done) => done() })));
  }
}
