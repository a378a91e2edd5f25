// One team's consistent backup (issue 15 item 1): every file of its database
// and its object storage, taken while the team serves.
//
// Consistency: the database and storage containers are frozen (docker pause)
// together while their volumes are read, so the copy is of one instant, the
// database's records and the objects they name alike. The app keeps running:
// a request that needs the database waits out the pause, none fails. The
// pause covers reading and sealing only; a bucket's upload happens after the
// thaw. The pause is measured and kept.
//
// Each volume goes as a tar of it, sealed as it streams (crypto/stream-seal.ts:
// AES-256-GCM in 1 MiB frames, each with its authentication tag) with a key
// derived from the platform key, in one pass and straight into its place on
// the target. The manifest, written last, names each file with its size, the
// SHA-256 of its frames' tags (a checksum of the whole file that a reader
// checks as it opens every frame) and the volume's entry and byte counts. A
// restore compares what it wrote with what it read (backups.service.ts). A
// backup is complete when its manifest is there: a crash before leaves none.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { names } from '../names.js';
import { LABEL } from '../runtime/labels.js';
import { TarDigest } from '../runtime/tar-digest.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { sealStream } from '../crypto/stream-seal.js';
import type { StackSpec } from '../stacks/render.js';
import type { BackupTarget, PendingFile } from './backup-target.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'berth-backup/2';

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
    /** Files, directories and links in the volume, and the bytes of their content. */
    entries: number;
    bytes: number;
    tarBytes: number;
    sealedBytes: number;
    /** SHA-256 of the sealed file's frame tags, in order: any changed frame changes it. */
    tagsSha256: string;
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
    const labels = { [LABEL.platform]: this.d.platformId, [LABEL.tenant]: spec.tenant };
    const services = spec.services.filter((s) => s.name !== spec.route.service).map((s) => s.container.name);
    const volumes: BackupManifest['volumes'] = [];
    const pending: PendingFile[] = [];
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
          const out = await target.begin(`${spec.tenant}/${id}/${file}`);
          pending.push(out);
          const tree = new TarDigest({ content: false });
          const tags = createHash('sha256');
          let tarBytes = 0;
          let sealedBytes = 0;
          await this.d.runtime.exportVolume(
            { volume: v.to, image: v.image, path: v.path, helper: names.backupHelper(spec.tenant, v.volume), labels },
            async (archive) => {
              const count = new Transform({
                transform(chunk: Buffer, _e, done) {
                  tree.write(chunk);
                  tarBytes += chunk.length;
                  done(null, chunk);
                }
              });
              const measure = new Transform({
                transform(chunk: Buffer, _e, done) {
                  sealedBytes += chunk.length;
                  done(null, chunk);
                }
              });
              await pipeline(archive, count, sealStream(this.d.key, (tag) => tags.update(tag)), measure, createWriteStream(out.file, { mode: 0o600 }));
            }
          );
          const counted = tree.digest();
          volumes.push({ volume: v.volume, file, entries: counted.entries, bytes: counted.bytes, tarBytes, sealedBytes, tagsSha256: tags.digest('hex') });
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
      while (pending.length > 0) await pending.shift()!.commit();
      await step('manifest');
      const m = await target.begin(`${spec.tenant}/${id}/${MANIFEST}`);
      pending.push(m);
      await writeFile(m.file, JSON.stringify(manifest, null, 2), { mode: 0o600 });
      await pending.pop()!.commit();
      const size = volumes.reduce((s, x) => s + x.sealedBytes, 0);
      this.d.log.info({ tenant: spec.tenant, backup: id, target: target.describe, bytes: size, pauseMs }, 'backup taken');
      return manifest;
    } catch (err) {
      for (const p of pending) await p.abort().catch(() => undefined);
      if (err instanceof BerthError && err.code === 'BACKUP_FAILED') throw err;
      throw new BerthError('BACKUP_FAILED', `the backup of ${spec.tenant} to ${target.describe} failed: ${(err as Error).message}; the team keeps serving and no backup is marked complete`);
    }
  }
}
