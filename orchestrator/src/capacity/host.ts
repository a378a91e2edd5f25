// The host's room as the kernel sees it: MemAvailable from /proc/meminfo
// (what can be given to new work without swapping; proc(5)) and the free
// space of the filesystem that holds Docker's volumes (statfs(2), what an
// unprivileged writer may still use). The sleep policy and admission take
// them as functions, so tests can inject a shortage.
import { readFile, statfs } from 'node:fs/promises';

/** Bytes available, or null when the kernel does not say (no /proc, an old kernel). */
export type MemoryReader = () => Promise<number | null>;
/** Bytes free for new data, or null when the path cannot be read. */
export type DiskReader = () => Promise<number | null>;

export function parseMemAvailable(text: string): number | null {
  const m = /^MemAvailable:\s+(\d{1,15}) kB$/m.exec(text.slice(0, 64 * 1024));
  return m ? Number(m[1]) * 1024 : null;
}

export const readMemAvailable: MemoryReader = async () => parseMemAvailable(await readFile('/proc/meminfo', 'utf8'));

/** The free space of the filesystem holding `path`; null when it does not exist. */
export function diskFreeOf(path: string): DiskReader {
  return async () => {
    try {
      const s = await statfs(path);
      return s.bavail * s.bsize;
    } catch {
      return null;
    }
  };
}
