// Admission: work that makes a team take more of the host (a create, a start
// or wake of a team whose containers are down, an upgrade's second app) asks
// here first, and is refused with CAPACITY, before anything is made or
// started, when the room it may take would leave the host less than the
// configured reserves.
//
// The room a team may take is its plan's memory limits (what the kernel lets
// its containers hold), and for a create its storage quota on disk: never
// more than that, so a host admitted this way is not pushed into swap or the
// OOM killer by the newcomer. The host's side is what the kernel says now
// (MemAvailable, free disk), less the room of the work admitted here that has
// not finished starting: two creates at once do not both count the same free
// memory.
import { BerthError } from '../errors.js';
import { bytesInWords as size } from '../formats.js';
import type { Logger } from '../log.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { parseMemory, storageQuotaBytes } from '../stacks/render.js';
import type { DiskReader, MemoryReader } from './host.js';

export type AdmittedWork = 'create' | 'start' | 'wake' | 'upgrade';

export interface Need {
  work: AdmittedWork;
  tenant: string;
  plan: string;
  memoryBytes: number;
  diskBytes: number;
}

export interface Reserve {
  memoryReserveBytes: number;
  diskReserveBytes: number;
}

export interface AdmissionDeps {
  memory: MemoryReader;
  disk: DiskReader;
  /** Read at every ask: an operator's change to the reserve holds at once. */
  reserve: () => Reserve;
  /**
   * Told of a refusal (an event operators see): once per team and kind of
   * work within TELL_EVERY_MS, so visitors knocking on a sleeping team of a
   * full host do not write an event per request.
   */
  refused?: (need: Need, refusal: Refusal) => void;
  log: Logger;
}

export interface Refusal {
  resource: 'memory' | 'disk';
  availableBytes: number;
  heldBytes: number;
  needBytes: number;
  reserveBytes: number;
}

/** The host's room now, as admission sees it: what the kernel says, what starts under way hold, the reserves. */
export interface Room {
  /** MemAvailable; null when the host does not say. */
  memoryBytes: number | null;
  /** Free disk for teams' volumes; null when it cannot be read. */
  diskBytes: number | null;
  held: { memoryBytes: number; diskBytes: number; count: number };
  reserve: Reserve;
}

/**
 * How many more teams needing `need` this room takes one after another, by
 * admit()'s rule (a check turned off, reserve 0, counts what physically
 * fits); null when a reading it needs is missing.
 */
export function fitCount(room: Room, need: { memoryBytes: number; diskBytes: number }): number | null {
  const limits: [number | null, number, number, number][] = [
    [room.memoryBytes, room.held.memoryBytes, room.reserve.memoryReserveBytes, need.memoryBytes],
    [room.diskBytes, room.held.diskBytes, room.reserve.diskReserveBytes, need.diskBytes]
  ];
  let fits = Number.POSITIVE_INFINITY;
  for (const [free, held, reserve, each] of limits) {
    if (each <= 0) continue;
    if (free === null) return null;
    fits = Math.min(fits, Math.max(0, Math.floor((free - held - reserve) / each)));
  }
  return Number.isFinite(fits) ? fits : null;
}

/** Frees the room an admitted start holds; once it has started (or failed), the kernel's figures show its real use. */
export type Release = () => void;

const TELL_EVERY_MS = 60_000;
/** Teams whose last refusal is remembered, at most (older ones are forgotten first). */
const TOLD_MAX = 1000;

/** The room a team of `plan` may take: its services' memory limits (only `services`, when given) and its storage quota. */
export function planNeed(template: LoadedTemplate, plan: string, services?: readonly string[]): { memoryBytes: number; diskBytes: number } {
  const limits = template.template['x-berth'].plans[plan]?.limits ?? {};
  const memoryBytes = Object.entries(limits)
    .filter(([service]) => !services || services.includes(service))
    .reduce((sum, [, l]) => sum + parseMemory(l.memory), 0);
  return { memoryBytes, diskBytes: storageQuotaBytes(template, plan) ?? 0 };
}

export class Admission {
  private readonly held = new Set<Need>();
  /** When each team's refusal of each kind of work was last told, by performance.now(). */
  private readonly told = new Map<string, number>();

  constructor(private readonly d: AdmissionDeps) {}

  /**
   * Admits `need` and holds its room until the returned release is called,
   * or throws CAPACITY naming the resource, the figures and what to do.
   * A reading the host cannot give (no /proc/meminfo) admits, with a warning.
   */
  async admit(need: Need): Promise<Release> {
    const reserve = this.d.reserve();
    const [memory, disk] = await Promise.all([
      need.memoryBytes > 0 && reserve.memoryReserveBytes > 0 ? this.read('memory', this.d.memory) : null,
      need.diskBytes > 0 && reserve.diskReserveBytes > 0 ? this.read('disk', this.d.disk) : null
    ]);
    const heldMemory = this.sum('memoryBytes');
    const heldDisk = this.sum('diskBytes');
    const refusal: Refusal | undefined =
      memory !== null && memory - heldMemory - need.memoryBytes < reserve.memoryReserveBytes
        ? { resource: 'memory', availableBytes: memory, heldBytes: heldMemory, needBytes: need.memoryBytes, reserveBytes: reserve.memoryReserveBytes }
        : disk !== null && disk - heldDisk - need.diskBytes < reserve.diskReserveBytes
          ? { resource: 'disk', availableBytes: disk, heldBytes: heldDisk, needBytes: need.diskBytes, reserveBytes: reserve.diskReserveBytes }
          : undefined;
    if (refusal) {
      this.tell(need, refusal);
      throw new BerthError('CAPACITY', message(need, refusal), { ...refusal, work: need.work, plan: need.plan });
    }
    this.held.add(need);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(need);
    };
  }

  /**
   * Admits `need`, then starts the work; its room is held until the work is
   * done (its `done` settles), or let go at once when starting it throws.
   */
  async holdFor<T extends { done: Promise<unknown> }>(need: Need, start: () => Promise<T>): Promise<T> {
    const release = await this.admit(need);
    try {
      const started = await start();
      void started.done.finally(release);
      return started;
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The host's room now (both readings, whatever the reserves). */
  async room(): Promise<Room> {
    const [memoryBytes, diskBytes] = await Promise.all([this.read('memory', this.d.memory), this.read('disk', this.d.disk)]);
    return { memoryBytes, diskBytes, held: this.holding(), reserve: { ...this.d.reserve() } };
  }

  /** The room held by admitted work still starting. */
  holding(): { memoryBytes: number; diskBytes: number; count: number } {
    return { memoryBytes: this.sum('memoryBytes'), diskBytes: this.sum('diskBytes'), count: this.held.size };
  }

  private tell(need: Need, refusal: Refusal): void {
    const key = `${need.work} ${need.tenant}`;
    const now = performance.now();
    const last = this.told.get(key);
    if (last !== undefined && now - last < TELL_EVERY_MS) return;
    this.told.delete(key);
    this.told.set(key, now);
    if (this.told.size > TOLD_MAX) this.told.delete(this.told.keys().next().value!);
    this.d.log.warn({ tenant: need.tenant, work: need.work, plan: need.plan, ...refusal }, 'refused: the host has no room');
    this.d.refused?.(need, refusal);
  }

  private sum(field: 'memoryBytes' | 'diskBytes'): number {
    let total = 0;
    for (const need of this.held) total += need[field];
    return total;
  }

  private async read(what: string, reader: () => Promise<number | null>): Promise<number | null> {
    const value = await reader().catch((err: Error) => {
      this.d.log.warn({ err: err.message }, `host ${what} not read; admitted without its check`);
      return null;
    });
    return value;
  }
}

/** "this host has room for no more starter teams: 1.2 GB memory free, 2.0 GB reserve; …" */
function message(need: Need, r: Refusal): string {
  const kind = r.resource === 'memory' ? 'memory free' : 'disk free';
  const what = need.work === 'upgrade' ? `a second ${need.plan} app (for the upgrade of ${need.tenant})` : `another ${need.plan} team (${need.work} of ${need.tenant})`;
  const held = r.heldBytes > 0 ? `, ${size(r.heldBytes)} held by starts under way` : '';
  const hint = r.resource === 'memory' ? 'try again later, or free memory (put idle teams to sleep, stop teams)' : 'try again later, or free disk space (remove unused teams\' data)';
  return `this host has no room for ${what}: ${size(r.availableBytes)} ${kind}${held}, the team may take ${size(r.needBytes)}, and ${size(r.reserveBytes)} is kept in reserve; ${hint}`;
}
