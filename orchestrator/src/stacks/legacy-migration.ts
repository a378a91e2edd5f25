// Moves a team made under the earlier dash names (berth-<slug>-<service>,
// names.legacy) to the dot-separated ones, at the start of its next stack-up:
// its old containers are stopped and removed, each old volume's data is copied
// into the volume of the new name and compared, and only then the old volume
// and networks are removed. Only objects whose labels name this platform and
// this tenant are touched: an old name another team's labels claim is left
// alone. Safe to repeat after a crash at any step: a volume is removed only
// after its copy matched, and nothing new starts while an old volume is left,
// so a copy never overwrites newer data.
import { BerthError } from '../errors.js';
import { ownerOf } from '../runtime/ownership.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { names } from '../names.js';
import type { StackSpec } from './render.js';

export interface MigrationReport {
  /** Old volume → new volume, each copied and compared. */
  volumes: { from: string; to: string; entries: number; bytes: number }[];
  containersRemoved: string[];
  networksRemoved: string[];
  /** Old networks still holding another team's containers (the old names let one join); removed on a later start. */
  networksKept: string[];
}

export async function migrateLegacy(runtime: ContainerRuntime, spec: StackSpec): Promise<MigrationReport> {
  const report: MigrationReport = { volumes: [], containersRemoved: [], networksRemoved: [], networksKept: [] };
  const labels = spec.networks[0]!.labels;
  const mine = ownerOf(labels);
  const [containers, networks, volumes] = await Promise.all([runtime.listContainers(mine), runtime.listNetworks(mine), runtime.listVolumes(mine)]);
  const old = spec.legacy;
  const oldContainers = containers.filter((c) => old.containers.includes(c.name));
  const oldNetworks = networks.filter((n) => old.networks.includes(n.name));
  const oldVolumes = old.volumes.filter((v) => volumes.some((have) => have.name === v.from));
  if (oldContainers.length + oldNetworks.length + oldVolumes.length === 0) return report;

  // Stopped first, so the data is at rest while it is copied.
  for (const c of oldContainers) {
    await runtime.stopContainer(c.name, 20);
    await runtime.removeContainer(c.name);
    report.containersRemoved.push(c.name);
  }
  for (const v of oldVolumes) {
    await runtime.ensureVolume({ name: v.to, labels });
    const copied = await runtime.copyVolume({
      from: v.from,
      to: v.to,
      image: v.image,
      path: v.path,
      helpers: { from: names.migrationHelper(spec.tenant, v.volume, 'from'), to: names.migrationHelper(spec.tenant, v.volume, 'to') },
      labels
    });
    if (copied.from.sha256 !== copied.to.sha256 || copied.from.entries !== copied.to.entries) {
      throw new BerthError(
        'MIGRATION_FAILED',
        `the copy of volume ${v.from} in ${v.to} differs from it (${copied.from.entries} entries, ${copied.from.bytes} bytes; copy: ${copied.to.entries} entries, ${copied.to.bytes} bytes); ${v.from} is kept and the next start copies it again`,
        { from: v.from, to: v.to }
      );
    }
    await runtime.removeVolume(v.from);
    report.volumes.push({ from: v.from, to: v.to, entries: copied.from.entries, bytes: copied.from.bytes });
  }
  for (const n of oldNetworks) {
    try {
      await runtime.removeNetwork(n.name);
      report.networksRemoved.push(n.name);
    } catch (err) {
      // Under the old names a team "x-edge" joined the edge network of "x":
      // its containers keep that network in use (Docker answers 403, "has
      // active endpoints") until that team moves too.
      if (!(err instanceof BerthError && err.details?.status === 403)) throw err;
      report.networksKept.push(n.name);
    }
  }
  return report;
}
