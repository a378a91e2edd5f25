// One team's consistent backup (issue 15 item 1): every file of its database
// and its object storage, taken while the team serves.
//
// Consistency: the database and storage containers are frozen (docker pause)
// together while their volumes are read, so the copy is of one instant, the
// database's records and the objects they name alike. The app keeps running:
// a request that needs the database waits out the pause, none fails. The
// pause covers reading and sealing into a local file only; the upload to the
// target happens after the thaw. The pause is measured and kept.
//
// Each volume goes as the engine's tar of it, sealed (crypto/stream-seal.ts)
// with a key derived from the platform key; the manifest, written last, names
// the files with the SHA-256 of each tar and of each sealed file, and the
// tree digest (every path, mode, owner and content) of each volume. A backup
// is complete when its manifest is there: a crash before leaves no manifest.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { names } from '../names.js';
import { LABEL } from '../runtime/labels.js';
import { TarDigest } from '../runtime/tar-digest.js';
import type { ContainerRuntime, TreeDigest } from '../runtime/types.js';
import { sealStream } from '../crypto/stream-seal.js';
import type { StackSpec } from '../stacks/render.js';
import type { BackupTarget } from './backup-target.js';
import { streamHash } from './stream-hash.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'berth-backup/1';

export interface BackupManifest {
  format: typeof FORMAT;
  id: string;
  tenant: string;
  createdAt: string;
  template: string;
  plan: string;
  appVersion: string;
  /** How long the database and storage were frozen while their volumes were read. */
  pauseMs: number;
  /** "backup": the key is the platform key's backup key; its id tells which platform key sealed it. */
  keyId: string;
  volumes: {
    volume: string;
    file: string;
    tree: TreeDigest;
    tarBytes: number;
    tarSha256: string;
    sealedBytes: number;
    sealedSha256: string;
  }[];
}

/** A backup's id: its UTC second and 6 random hex digits (backups.schema.ts BACKUP_ID). */
export function newBackupId(at: Date): { id: string; createdAt: Date } {
  return { id: `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`, createdAt: at };
}

export interface BackupMakerDeps {
  runtime: ContainerRuntime;
  platformId: string;
  /** The backup key (SecretBox.keyFor('backup')). */
  key: Buffer;
  /** Where files are sealed before they go to the target (on the host, root only). */
  workDir: string;
  log: Logger;
  clock?: () => Date;
}

export class BackupMaker {
  constructor(private readonly d: BackupMakerDeps) {}

  /** The key's id: which platform key sealed a backup, without saying anything of the key. */
  keyId(): string {
    return createHash('sha256').update('berth-backup-key-id').update(this.d.key).digest('hex').slice(0, 16);
  }

  /**
   * Backs the team of `spec` up to `target`; `frozen`: the team's containers
   * are paused already (a frozen team), so they are left as they are.
   */
  async backup(spec: StackSpec, target: BackupTarget, state: { running: boolean; frozen: boolean }, named?: { id: string; createdAt: Date }, step: (name: string) => Promise<void> = async () => {}): Promise<BackupManifest> {
    const { id, createdAt: at } = named ?? newBackupId(this.d.clock?.() ?? new Date());
    const createdAt = at.toISOString();
    await mkdir(this.d.workDir, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(path.join(this.d.workDir, `${spec.tenant}-`));
    const labels = { [LABEL.platform]: this.d.platformId, [LABEL.tenant]: spec.tenant };
    const services = spec.services.filter((s) => s.name !== spec.route.service).map((s) => s.container.name);
    const volumes: BackupManifest['volumes'] = [];
    try {
      const freeze = state.running && !state.frozen;
      const t0 = performance.now();
      let pauseMs = 0;
      if (freeze) {
        await step('freezing');
        for (const name of services) await this.d.runtime.pauseContainer(name);
      }
      try {
        for (const v of spec.legacy.volumes) {
          await step(`${v.volume}:reading`);
          const file = `${v.volume}.tar.sealed`;
          const tree = new TarDigest();
          const tar = streamHash();
          const sealed = streamHash();
          await this.d.runtime.exportVolume(
            { volume: v.to, image: v.image, path: v.path, helper: names.backupHelper(spec.tenant, v.volume), labels },
            async (archive) => {
              archive.on('data', (chunk: Buffer) => tree.write(chunk));
              await pipeline(archive, tar.pass, sealStream(this.d.key), sealed.pass, createWriteStream(path.join(work, file), { mode: 0o600 }));
            }
          );
          volumes.push({ volume: v.volume, file, tree: tree.digest(), tarBytes: tar.bytes(), tarSha256: tar.sha256(), sealedBytes: sealed.bytes(), sealedSha256: sealed.sha256() });
        }
      } finally {
        if (freeze) {
          for (const name of services) await this.d.runtime.unpauseContainer(name).catch((err: Error) => this.d.log.error({ container: name, err: err.message }, 'not thawed after a backup'));
          pauseMs = Math.round(performance.now() - t0);
        }
      }
      const manifest: BackupManifest = {
        format: FORMAT, id, tenant: spec.tenant, createdAt, template: spec.template, plan: spec.plan, appVersion: spec.appVersion,
        pauseMs, keyId: this.keyId(), volumes
      };
      // The volumes first, the manifest last: a backup without its manifest is not one.
      await step('uploading');
      for (const v of volumes) await target.put(`${spec.tenant}/${id}/${v.file}`, path.join(work, v.file));
      await step('manifest');
      await writeFile(path.join(work, MANIFEST), JSON.stringify(manifest, null, 2), { mode: 0o600 });
      await target.put(`${spec.tenant}/${id}/${MANIFEST}`, path.join(work, MANIFEST));
      const size = (await Promise.all(volumes.map((v) => stat(path.join(work, v.file))))).reduce((s, x) => s + x.size, 0);
      this.d.log.info({ tenant: spec.tenant, backup: id, target: target.describe, bytes: size, pauseMs }, 'backup taken');
      return manifest;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'BACKUP_FAILED') throw err;
      throw new BerthError('BACKUP_FAILED', `the backup of ${spec.tenant} to ${target.describe} failed: ${(err as Error).message}; the team keeps serving and no backup is marked complete`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
