// Where backups go: a directory on the host, or any S3-compatible bucket.
// Keys are made by the backup code, never by a caller: "<slug>/<id>/<file>",
// checked again here so no key can leave the directory or the prefix.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Client } from 'minio';
import { BerthError } from '../errors.js';
import type { BackupConfig, S3Settings } from '../config/backup.config.js';

export interface BackupTarget {
  /** For messages and the manifest: "dir:/var/lib/berth-backups", "s3:bucket/prefix". */
  readonly describe: string;
  /**
   * A local file to write `key` into, and what makes it visible under `key`
   * (commit) or drops it (abort). A directory target hands out the final
   * place's partial file (commit renames: no second copy); a bucket, a file
   * in the work directory that commit uploads.
   */
  begin(key: string): Promise<PendingFile>;
  get(key: string): Promise<Readable>;
  /** Keys under a prefix ("acme/"), sorted. */
  list(prefix: string): Promise<string[]>;
  remove(key: string): Promise<void>;
  /** Removes everything under a backup's prefix ("acme/<id>/"), files a crash left half-written included. */
  removeAll(prefix: string): Promise<void>;
}

export interface PendingFile {
  file: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const KEY = /^[a-z][a-z0-9-]{2,31}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,2}\/?$/;

/** A key the backup code made: slug, then at most two plain segments; never "..", never absolute. */
export function checkKey(key: string): string {
  if (key.length > 300 || !KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new BerthError('BACKUP_FAILED', `not a backup key: ${JSON.stringify(key.slice(0, 80))}`);
  }
  return key;
}

export class DirTarget implements BackupTarget {
  readonly describe: string;

  constructor(private readonly root: string) {
    this.describe = `dir:${root}`;
  }

  private file(key: string): string {
    return path.join(this.root, checkKey(key));
  }

  async begin(key: string): Promise<PendingFile> {
    const to = this.file(key);
    await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    const partial = `${to}.partial`;
    return { file: partial, commit: () => rename(partial, to), abort: () => rm(partial, { force: true }) };
  }

  async get(key: string): Promise<Readable> {
    const file = this.file(key);
    await stat(file).catch(() => {
      throw new BerthError('BACKUP_FAILED', `no backup file ${key} in ${this.describe}`);
    });
    return createReadStream(file);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(path.join(this.root, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(key);
        else if (!e.name.endsWith('.partial') && key.startsWith(prefix)) out.push(key);
      }
    };
    await walk(checkKey(prefix).replace(/\/$/, ''));
    return out.sort();
  }

  async removeAll(prefix: string): Promise<void> {
    if (prefix.split('/').filter(Boolean).length !== 2) throw new BerthError('BACKUP_FAILED', `not a backup's prefix: ${JSON.stringify(prefix.slice(0, 80))}`);
    await rm(this.file(prefix), { recursive: true, force: true });
  }

  async remove(key: string): Promise<void> {
    const file = this.file(key);
    await rm(file, { force: true });
    // A backup's own directory goes with its last file; the team's stays (another backup may be writing into it).
    if (key.split('/').length === 3) await rmdir(path.dirname(file)).catch(() => {});
  }
}


export class S3Target implements BackupTarget {
  readonly describe: string;
  private readonly client: Client;

  /** `workDir`: where files wait (sealed) for their upload. */
  constructor(private readonly s: S3Settings, private readonly workDir: string) {
    const url = new URL(s.endpoint);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      useSSL: url.protocol === 'https:',
      accessKey: s.accessKey,
      secretKey: s.secretKey,
      region: s.region ?? 'us-east-1',
      pathStyle: true
    });
    this.describe = `s3:${s.bucket}/${s.prefix}`;
  }

  private object(key: string): string {
    return `${this.s.prefix.replace(/\/+$/, '')}/${checkKey(key)}`.replace(/^\//, '');
  }

  private async fail<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new BerthError('BACKUP_FAILED', `${what} on ${this.describe}: ${(err as Error).message}`);
    }
  }

  // An S3 object appears whole or not at all: no rename needed.
  private async put(key: string, file: string): Promise<void> {
    await this.fail(`writing ${key}`, () => this.client.fPutObject(this.s.bucket, this.object(key), file));
  }

  async begin(key: string): Promise<PendingFile> {
    checkKey(key);
    await mkdir(this.workDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.workDir, `${key.replace(/\//g, '_')}-${randomBytes(4).toString('hex')}`);
    return {
      file,
      commit: async () => {
        try {
          await this.put(key, file);
        } finally {
          await rm(file, { force: true });
        }
      },
      abort: () => rm(file, { force: true })
    };
  }

  async get(key: string): Promise<Readable> {
    return this.fail(`reading ${key}`, () => this.client.getObject(this.s.bucket, this.object(key)));
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.object(prefix);
    const strip = this.object('xxx').slice(0, -3);
    return this.fail(`listing ${prefix}`, async () => {
      const out: string[] = [];
      for await (const o of this.client.listObjectsV2(this.s.bucket, base, true) as AsyncIterable<{ name?: string }>) if (o.name) out.push(o.name.slice(strip.length));
      return out.sort();
    });
  }

  async removeAll(prefix: string): Promise<void> {
    for (const key of await this.list(prefix)) await this.remove(key);
  }

  async remove(key: string): Promise<void> {
    await this.fail(`removing ${key}`, () => this.client.removeObject(this.s.bucket, this.object(key)));
  }
}

/** The target the configuration names: the bucket when set, else the directory. */
export function backupTargetOf(c: BackupConfig): BackupTarget {
  return c.s3 ? new S3Target(c.s3, path.join(c.dir, '.work')) : new DirTarget(c.dir);
}
