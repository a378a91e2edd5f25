// The tenant app's production build, which scripts/test makes before tap:
// tests check it (built.ts says why they never build it themselves).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBuild } from '../../../orchestrator/test/helpers/built.js';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_ENTRY = path.join(APP_DIR, 'build/index.js');

let checked: Promise<void> | undefined;
/** Fails with what to run when tenant-app/build is missing or older than a source file. */
export function ensureBuilt(): Promise<void> {
  checked ??= requireBuild(APP_DIR, 'build/index.js', ['src', 'package.json', 'svelte.config.js', 'vite.config.ts']);
  return checked;
}
