// The route files on disk: <routesDir>/<slug>.conf, one per tenant. Writes
// are atomic (temp file, fsync, rename, directory fsync) so nginx, which may
// read the folder at any moment (a reload, an `nginx -t`), never sees half a
// file. Callers validate slugs first; this class only joins them to the dir.
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { slugProblem } from '../contract/slug.js';

/** A file's previous bytes, or null when it did not exist. */
export type Backup = Buffer | null;

export class RouteFiles {
  private prepared = false;

  constructor(readonly dir: string) {}

  file(slug: string): string {
    return path.join(this.dir, `${slug}.conf`);
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => n.endsWith('.conf') && !slugProblem(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort();
  }

  async read(slug: string): Promise<Backup> {
    try {
      return await readFile(this.file(slug));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Writes <slug>.conf.tmp (the main config includes only *.conf), fsyncs it
   * and renames it over <slug>.conf; null removes the route. Call sync() after
   * a series of puts.
   */
  async put(slug: string, content: string | Buffer | null): Promise<void> {
    const file = this.file(slug);
    if (content === null) return rm(file, { force: true });
    const fh = await open(`${file}.tmp`, 'w', 0o644);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(`${file}.tmp`, file);
  }

  async restoreAll(backups: Map<string, Backup>): Promise<void> {
    for (const [slug, previous] of backups) await this.put(slug, previous);
    await this.sync();
  }

  /** Renames and unlinks are durable only once the directory itself is synced. */
  async sync(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Once per process: the folder exists, and temp files a crash left behind are gone. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.conf.tmp')) await rm(path.join(this.dir, name), { force: true });
    }
    this.prepared = true;
  }
}
