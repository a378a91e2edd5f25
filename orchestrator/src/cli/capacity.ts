// berth capacity: the host's headroom now and how many more teams of each plan fit.
import { parseArgs } from './args.js';
import { bytesInWords, type CapacityView } from './api-types.js';
import { apiFromEnv, call } from './http.js';
import { json, out, table } from './output.js';

const HELP = `Usage: berth capacity [--json]

The platform host's headroom now, as admission sees it: CPUs and load, memory
available of total, free disk for teams' volumes, the reserves admission keeps
(BERTH_CAPACITY_*_RESERVE_MB) and the room held by starts under way; then per
plan: what one team may take (its memory limits, storage quota, CPUs), its
teams that are up, frozen and down, the memory those holding it may take, and
how many more admission would start now (FITS).`;

const size = (bytes: number | null) => (bytes === null ? 'unknown' : bytesInWords(bytes));

export async function capacityMain(argv: readonly string[]): Promise<void> {
  const a = parseArgs({ cmd: 'capacity', help: HELP, switches: ['--json'] }, argv);
  const body = await call<CapacityView>(apiFromEnv(), 'GET', '/api/v1/capacity');
  if (a.has('--json')) return json(body);
  const { host, reserve, starting } = body;
  out(table([
    ['CPUS', 'LOAD', 'MEMORY FREE', 'MEMORY TOTAL', 'DISK FREE', 'RESERVE (MEM/DISK)', 'STARTING'],
    [host.cpus, host.load1, size(host.memory.availableBytes), size(host.memory.totalBytes), `${size(host.disk.freeBytes)} (${host.disk.path})`,
      `${size(reserve.memoryBytes)} / ${size(reserve.diskBytes)}`, starting.count === 0 ? 0 : `${starting.count} (${size(starting.memoryBytes)})`]
  ]));
  out(table([
    ['TEMPLATE', 'PLAN', 'MEMORY', 'DISK', 'CPUS', 'UP', 'FROZEN', 'DOWN', 'RESERVED', 'FITS'],
    ...body.plans.map((p) => [p.template, p.plan, size(p.memoryBytes), size(p.diskBytes), p.cpus, p.teams.up, p.teams.frozen, p.teams.down, size(p.reservedMemoryBytes), p.fitsNow ?? 'unknown'])
  ]));
}
