// The host over time, for a capacity measurement: once a second, CPU busy of
// all CPUs (/proc/stat), MemAvailable (/proc/meminfo), bytes read and written
// by the disks (/proc/diskstats) and the CPU this process spent. The process's
// own CPU is kept apart because the measurement's load generator runs in it:
// the report takes the generator out of the host's CPU (see measure-run.ts).
import { readdir, readFile } from 'node:fs/promises';
import { readMemAvailable, type MemoryReader } from './host.js';

export interface HostSample {
  /** Seconds since the sampler started. */
  t: number;
  /** Busy share of all CPUs over the last interval (0-1). */
  cpuBusy: number;
  /** This process's CPU over the last interval, as a share of all CPUs (0-1). */
  processCpu: number;
  memoryAvailableBytes: number | null;
  diskReadBytesPerS: number;
  diskWriteBytesPerS: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** The first line of /proc/stat: busy and total jiffies of all CPUs (idle and iowait are not busy). */
export function parseCpuTimes(text: string): CpuTimes | null {
  const line = text.slice(0, 4096).split('\n')[0] ?? '';
  if (!/^cpu\s/.test(line)) return null;
  const fields = line.trim().split(/\s+/).slice(1, 11).map(Number);
  if (fields.length < 5 || fields.some((n) => !Number.isFinite(n))) return null;
  const idle = fields[3]! + fields[4]!;
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Whole disks only: partitions and device-mapper volumes would count the same bytes twice, loop and RAM devices none of the disk's. */
const isDisk = (name: string) => !/^(loop|ram|zram|dm-|sr|fd)/.test(name);

/** Sectors (512 bytes, whatever the device's own size: the kernel's unit) read and written, summed over `disks`. */
export function parseDiskStats(text: string, disks: ReadonlySet<string>): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.slice(0, 256 * 1024).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !disks.has(f[2]!)) continue;
    const read = Number(f[5]);
    const written = Number(f[9]);
    if (Number.isFinite(read)) readBytes += read * 512;
    if (Number.isFinite(written)) writeBytes += written * 512;
  }
  return { readBytes, writeBytes };
}

export interface HostSampler {
  /** Stops and gives the samples taken. */
  stop(): Promise<HostSample[]>;
  samples(): readonly HostSample[];
}

/** Samples the host every `intervalMs` until stopped; a reading the host does not give is left out of that sample, never guessed. */
export async function sampleHost(options: { intervalMs?: number; cpus: number; memory?: MemoryReader } ): Promise<HostSampler> {
  const intervalMs = options.intervalMs ?? 1000;
  const memory = options.memory ?? readMemAvailable;
  const disks = new Set((await readdir('/sys/block').catch(() => [] as string[])).filter(isDisk));
  const read = async () => ({
    at: performance.now(),
    cpu: parseCpuTimes(await readFile('/proc/stat', 'utf8').catch(() => '')),
    disk: parseDiskStats(await readFile('/proc/diskstats', 'utf8').catch(() => ''), disks),
    process: process.cpuUsage()
  });
  const t0 = performance.now();
  const taken: HostSample[] = [];
  let last = await read();
  let stopped = false;
  let wake: () => void = () => {};
  const loop = (async () => {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs).unref();
      });
      const now = await read();
      const seconds = (now.at - last.at) / 1000;
      if (seconds <= 0) continue;
      const processUs = now.process.user + now.process.system - last.process.user - last.process.system;
      taken.push({
        t: Math.round((now.at - t0) / 100) / 10,
        cpuBusy: now.cpu && last.cpu && now.cpu.total > last.cpu.total ? (now.cpu.busy - last.cpu.busy) / (now.cpu.total - last.cpu.total) : 0,
        processCpu: processUs / 1e6 / seconds / Math.max(1, options.cpus),
        memoryAvailableBytes: await memory(),
        diskReadBytesPerS: Math.max(0, (now.disk.readBytes - last.disk.readBytes) / seconds),
        diskWriteBytesPerS: Math.max(0, (now.disk.writeBytes - last.disk.writeBytes) / seconds)
      });
      last = now;
    }
  })();
  return {
    samples: () => taken,
    stop: async () => {
      stopped = true;
      wake();
      await loop;
      return taken;
    }
  };
}
