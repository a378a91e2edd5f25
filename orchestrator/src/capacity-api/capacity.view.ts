// The headroom view: the host's room from admission (one owner of the
// arithmetic: fitCount applies admit()'s rule), each plan's room per team,
// and what its teams hold now, counted from the registry.
import os from 'node:os';
import { fitCount, planNeed, type Admission } from '../capacity/admission.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { Phase } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { CapacityView } from './capacity.schema.js';

export interface CapacityViewDeps {
  admission: Pick<Admission, 'room'>;
  repo: Pick<TenantsRepository, 'list'>;
  templates: Map<string, LoadedTemplate>;
  diskPath: string;
  clock?: () => Date;
}

/** Phases whose containers hold memory. */
const UP: readonly Phase[] = ['running', 'degraded', 'provisioning', 'upgrading'];

export async function capacityView(d: CapacityViewDeps): Promise<CapacityView> {
  const [room, tenants] = await Promise.all([d.admission.room(), d.repo.list()]);
  const counts = new Map<string, { up: number; frozen: number; down: number }>();
  for (const t of tenants) {
    const key = `${t.template} ${t.plan}`;
    const c = counts.get(key) ?? { up: 0, frozen: 0, down: 0 };
    if (UP.includes(t.phase)) c.up++;
    else if (t.phase === 'frozen') c.frozen++;
    else c.down++;
    counts.set(key, c);
  }
  const plans = [...d.templates.values()].flatMap((template) => Object.entries(template.template['x-berth'].plans).map(([plan, spec]) => {
    const need = planNeed(template, plan);
    const teams = counts.get(`${template.name} ${plan}`) ?? { up: 0, frozen: 0, down: 0 };
    return {
      template: template.name,
      plan,
      ...need,
      cpus: Object.values(spec.limits).reduce((sum, l) => sum + l.cpus, 0),
      teams,
      reservedMemoryBytes: need.memoryBytes * (teams.up + teams.frozen),
      fitsNow: fitCount(room, need)
    };
  }));
  return {
    at: (d.clock?.() ?? new Date()).toISOString(),
    host: {
      cpus: os.availableParallelism(),
      load1: Math.round(os.loadavg()[0]! * 100) / 100,
      memory: { totalBytes: os.totalmem(), availableBytes: room.memoryBytes },
      disk: { path: d.diskPath, freeBytes: room.diskBytes }
    },
    reserve: { memoryBytes: room.reserve.memoryReserveBytes, diskBytes: room.reserve.diskReserveBytes },
    starting: room.held,
    plans
  };
}
