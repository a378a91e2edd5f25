// The route table on disk: what nginx loads when it starts (berth_routes.lua
// M.load), so a restarted nginx serves every route before the orchestrator
// says a word. Written atomically (temp file, fsync, rename, directory fsync);
// the table it replaces becomes <file>.last-good (a hard link, so no second
// copy is written), the one nginx and load() fall back to when the current
// file is corrupt. Lives in <prefix>/control, a directory only root enters.
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseTable, tableText } from './route-entry.js';

export interface LoadedTable {
  lines: string[];
  /** The file the lines came from, or null when neither exists yet. */
  source: string | null;
  /** Why the current file was refused, when it was. */
  refused?: string;
}

export class RouteTableFile {
  /** The file on disk is one this process wrote or loaded whole, so it may become last-good. */
  private currentGood = false;

  constructor(readonly file: string) {}

  get lastGood(): string {
    return `${this.file}.last-good`;
  }

  async load(): Promise<LoadedTable> {
    let refused: string | undefined;
    for (const file of [this.file, this.lastGood]) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        const lines = parseTable(text);
        this.currentGood = file === this.file;
        return { lines, source: file, ...(refused ? { refused } : {}) };
      } catch (err) {
        if (file === this.file) refused = `${file}: ${(err as Error).message}`;
      }
    }
    return { lines: [], source: null, ...(refused ? { refused } : {}) };
  }

  async write(lines: Iterable<string>): Promise<void> {
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(tableText(lines));
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (this.currentGood) {
      await rm(`${this.lastGood}.tmp`, { force: true });
      await link(this.file, `${this.lastGood}.tmp`).then(
        () => rename(`${this.lastGood}.tmp`, this.lastGood),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }
      );
    }
    await rename(tmp, this.file);
    this.currentGood = true;
    const d = await open(dir, 'r');
    try {
      await d.sync(); // the renames are durable only once the directory is
    } finally {
      await d.close();
    }
  }
}
