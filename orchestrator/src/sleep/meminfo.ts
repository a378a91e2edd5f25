// The host's memory as the kernel sees it: MemAvailable from /proc/meminfo
// (what can be given to new work without swapping; proc(5)). The sleep
// policy takes it as a function, so tests inject the shortage.
import { readFile } from 'node:fs/promises';

/** Bytes available, or null when the kernel does not say (no /proc, an old kernel). */
export type MemoryReader = () => Promise<number | null>;

export function parseMemAvailable(text: string): number | null {
  const m = /^MemAvailable:\s+(\d{1,15}) kB$/m.exec(text.slice(0, 64 * 1024));
  return m ? Number(m[1]) * 1024 : null;
}

export const readMemAvailable: MemoryReader = async () => parseMemAvailable(await readFile('/proc/meminfo', 'utf8'));
