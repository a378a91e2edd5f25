// Tests run the console and the tenant app from their production builds,
// which scripts/test makes once before tap starts. A test never builds them
// itself: a vite build empties its output folder first, so a build in one
// test file would pull the files from under another file running in parallel.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? await newest(full) : (await stat(full)).mtimeMs);
  }
  return latest;
}

/**
 * Fails with what to run when `entry` (a build's output) is missing or older
 * than any of `sources` (files or folders, relative to `workspace`).
 */
export async function requireBuild(workspace: string, entry: string, sources: string[]): Promise<void> {
  const name = path.basename(workspace);
  const how = `run \`npm run build -w ${name}\` (scripts/test does it before tap)`;
  const built = await stat(path.join(workspace, entry)).then((s) => s.mtimeMs, () => 0);
  if (built === 0) throw new Error(`${name} is not built (${path.join(name, entry)} is missing): ${how}`);
  for (const source of sources) {
    const full = path.join(workspace, source);
    const info = await stat(full);
    const changed = info.isDirectory() ? await newest(full) : info.mtimeMs;
    if (changed > built) throw new Error(`${name}'s build is older than ${path.join(name, source)}: ${how}`);
  }
}
