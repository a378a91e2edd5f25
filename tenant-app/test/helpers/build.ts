// Builds tenant-app/build when it is missing or older than any source file,
// once per test process.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_ENTRY = path.join(APP_DIR, 'build/index.js');
const run = promisify(execFile);

async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? await newest(full) : (await stat(full)).mtimeMs);
  }
  return latest;
}

let built: Promise<void> | undefined;
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const sources = Math.max(
      await newest(path.join(APP_DIR, 'src')),
      ...(await Promise.all(['package.json', 'svelte.config.js', 'vite.config.ts'].map(async (f) => (await stat(path.join(APP_DIR, f))).mtimeMs)))
    );
    const output = await stat(BUILD_ENTRY).then((s) => s.mtimeMs, () => 0);
    if (output > sources) return;
    await run('npm', ['run', 'build', '-w', 'tenant-app'], { cwd: path.dirname(APP_DIR), maxBuffer: 64 << 20 });
  })();
  return built;
}
