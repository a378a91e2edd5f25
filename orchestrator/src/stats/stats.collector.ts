// CPU and memory of every running tenant's containers, read every interval and
// published as one `tenant.stats` event per tenant, so the console's dashboard
// updates live without polling. One list call finds the containers (by label,
// as everywhere); the stats calls run a few at a time, and the next pass is
// scheduled only when this one has ended, so a slow engine never piles passes
// up. Each pass first reads every team's activity from the edge (one call to
// nginx) and publishes a `tenant.activity` event for each team whose numbers
// changed, before the slow container reads (also when another reader, the
// sleep policy, read nginx first).
//
// Docker quirk: a non-streamed stats read waits for a second sample (~1-2 s
// per container on Docker 20.10) so that it can compute CPU %; `one-shot`
// would answer at once but without the previous sample, so CPU % would always
// be 0. The runtime port computes the percentage, so we take the slow read and
// bound it with the concurrency limit.
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { LABEL } from '../runtime/labels.js';
import type { EdgeActivity } from '../proxy/edge-activity.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import { mapLimit } from './map-limit.js';
import type { TenantStats } from './stats.schema.js';

export interface StatsOptions {
  platformId: string;
  intervalMs: number;
  concurrency: number;
  /** Every container of the platform (one list call, shared: tenants/live-containers.ts); Docker's list when absent. */
  containers?: () => Promise<ContainerSummary[]>;
}

export class StatsCollector {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private current: Promise<void> | undefined;

  constructor(
    private readonly repo: TenantsRepository,
    private readonly runtime: ContainerRuntime,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly options: StatsOptions,
    private readonly activity?: EdgeActivity
  ) {
    // Published whoever read nginx: the sleep policy reads it too.
    activity?.onChange((changed) => this.publishChanged(changed));
  }

  /** Fresh numbers for one tenant; 404 when there is no such tenant. */
  async forTenant(slug: string): Promise<TenantStats> {
    await this.repo.mustGet(slug);
    const containers = await this.runtime.listContainers({ [LABEL.platform]: this.options.platformId, [LABEL.tenant]: slug });
    return this.collect(containers.filter((c) => c.state === 'running'));
  }

  /** One pass over every tenant with running containers: one event each. */
  async pass(): Promise<number> {
    await this.publishActivity();
    const containers = await (this.options.containers?.() ?? this.runtime.listContainers({ [LABEL.platform]: this.options.platformId }));
    const byTenant = new Map<string, ContainerSummary[]>();
    for (const c of containers) {
      const tenant = c.labels[LABEL.tenant];
      if (!tenant || c.state !== 'running') continue;
      byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), c]);
    }
    const tenants = [...byTenant.entries()];
    // Tenants one after another within the limit; each tenant's containers share it.
    await mapLimit(tenants, Math.max(1, Math.floor(this.options.concurrency / 3)), async ([tenant, list]) => {
      try {
        const data = await this.collect(list);
        await this.events.publish({ type: 'tenant.stats', tenant, data: { ...data } }, { store: false });
      } catch (err) {
        this.log.warn({ tenant, err: (err as Error).message }, 'stats not read');
      }
    });
    return tenants.length;
  }

  /** Reads the edge's activity once; a failed read keeps the last numbers and is logged. */
  private async publishActivity(): Promise<void> {
    if (!this.activity) return;
    try {
      await this.activity.refresh();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'activity not read from nginx');
    }
  }

  private async publishChanged(changed: string[]): Promise<void> {
    for (const tenant of changed) {
      const data = this.activity?.view(tenant);
      if (!data) continue;
      try {
        await this.events.publish({ type: 'tenant.activity', tenant, data: { ...data } }, { store: false });
      } catch (err) {
        this.log.warn({ tenant, err: (err as Error).message }, 'activity not published');
      }
    }
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops the loop and waits for a pass under way. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.pass()
        .then(() => undefined)
        .catch((err: Error) => this.log.warn({ err: err.message }, 'stats pass failed'))
        .finally(() => {
          this.current = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async collect(containers: ContainerSummary[]): Promise<TenantStats> {
    const read = await mapLimit(containers, this.options.concurrency, async (c) => ({
      service: c.labels[LABEL.service] ?? c.name,
      stats: await this.runtime.stats(c.name)
    }));
    const out = { cpuPercent: 0, memoryBytes: 0, memoryLimitBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, services: {} as TenantStats['services'] };
    for (const { service, stats } of read) {
      if (!stats) continue; // removed between the list and the read
      const s = { ...stats, cpuPercent: round(stats.cpuPercent) };
      out.services[service] = s;
      out.cpuPercent += s.cpuPercent;
      out.memoryBytes += s.memoryBytes;
      out.memoryLimitBytes += s.memoryLimitBytes;
      out.blockReadBytes += s.blockReadBytes;
      out.blockWriteBytes += s.blockWriteBytes;
    }
    out.cpuPercent = round(out.cpuPercent);
    return out;
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
