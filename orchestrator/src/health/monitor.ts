// The health monitor: on an interval (with jitter, so hundreds of tenants do
// not probe in lockstep) it checks every running tenant — its containers'
// state from one Docker list call, then the app's /healthz through its
// published port, which itself pings the database and storage. After N failed
// checks in a row the tenant is degraded and the failing service is
// restarted, with exponential backoff between restarts. Docker never restarts
// anything itself (restart policy "no"). The phase changes and the restart
// are the operation runner's (tenants/operations.ts); the monitor only judges.
import type { Metrics } from '../api/metrics.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { groupByTenant } from '../stacks/render.js';
import { LABEL } from '../runtime/labels.js';
import type { Operations } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { HealthState, TenantDoc } from '../tenants/tenant.types.js';
import { runProbe } from '../runtime/probes.js';

export interface MonitorOptions {
  intervalMs: number;
  failuresBeforeDegraded: number;
  /** Longest wait between two restarts of a still-failing tenant. */
  maxBackoffMs?: number;
  platformId: string;
  clock?: () => Date;
  /** Every container of the platform (one list call, shared: tenants/live-containers.ts); Docker's list when absent. */
  containers?: () => Promise<ContainerSummary[]>;
}

interface Verdict {
  ok: boolean;
  failing?: string;
  detail: string;
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly lastRestart = new Map<string, number>();
  private readonly clock: () => Date;

  constructor(
    private readonly repo: TenantsRepository,
    private readonly runtime: ContainerRuntime,
    private readonly stacks: TenantStacks,
    private readonly operations: Operations,
    private readonly events: EventBus,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: MonitorOptions
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (!this.running) return;
    const jitter = Math.random() * 0.2 * this.options.intervalMs;
    this.timer = setTimeout(() => {
      this.checkAll()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'health pass failed'))
        .finally(() => this.schedule());
    }, this.options.intervalMs + jitter);
  }

  /** One pass over every tenant that should be running. */
  async checkAll(): Promise<void> {
    const [docs, containers] = await Promise.all([
      this.repo.list(),
      this.options.containers?.() ?? this.runtime.listContainers({ [LABEL.platform]: this.options.platformId })
    ]);
    const byTenant = groupByTenant(containers);
    const due = docs.filter((d) => !d.operation && d.desired === 'running' && (d.phase === 'running' || d.phase === 'degraded'));
    await Promise.all(due.map((doc) => this.check(doc, byTenant.get(doc._id) ?? []).catch((err: Error) => {
      this.log.warn({ tenant: doc._id, err: err.message }, 'health check failed to run');
    })));
  }

  private async verdict(doc: TenantDoc, containers: ContainerSummary[]): Promise<Verdict> {
    const spec = this.stacks.specFor(doc);
    for (const service of spec.services) {
      // By name: during an upgrade's cleanup a tenant can briefly have two app containers.
      const c = containers.find((x) => x.name === service.container.name);
      if (!c || c.state !== 'running') return { ok: false, failing: service.name, detail: `container ${c ? c.state : 'missing'}` };
    }
    const routed = spec.services.find((s) => s.name === spec.route.service)!;
    const probe = await runProbe(this.runtime, routed.container.name, routed.probe, doc.port);
    if (probe.ok) return { ok: true, detail: 'healthy' };
    // /healthz names what failed ("failed": ["db"]); restart that, not the app.
    const failed = /"failed":\["([a-z0-9-]+)"/.exec(probe.detail)?.[1];
    const failing = failed && spec.services.some((s) => s.name === failed) ? failed : routed.name;
    return { ok: false, failing, detail: probe.detail.slice(0, 300) };
  }

  private async check(doc: TenantDoc, containers: ContainerSummary[]): Promise<void> {
    const v = await this.verdict(doc, containers);
    const prev = doc.health;
    const health: HealthState = {
      healthy: v.ok,
      failures: v.ok ? 0 : (prev?.failures ?? 0) + 1,
      checkedAt: this.clock(),
      restarts: v.ok ? 0 : prev?.restarts ?? 0,
      ...(v.ok ? {} : { failing: v.failing, detail: v.detail })
    };
    if (!v.ok) {
      this.metrics.inc('berth_probe_failures_total', 'Failed tenant health checks', { service: v.failing ?? 'unknown' });
      await this.events.publish({ type: 'health.check_failed', tenant: doc._id, data: { failing: v.failing, detail: v.detail, failures: health.failures } });
    }
    if (v.ok && doc.phase === 'degraded') {
      await this.operations.markRecovered(doc._id, health);
      this.lastRestart.delete(doc._id);
      return;
    }
    if (!v.ok && health.failures >= this.options.failuresBeforeDegraded) {
      if (doc.phase === 'running') {
        await this.operations.markDegraded(doc._id, health, { failing: v.failing, detail: v.detail });
        doc = { ...doc, phase: 'degraded', health };
      }
      if (this.restartDue(doc._id, health.restarts)) {
        health.restarts += 1;
        await this.repo.update(doc._id, { $set: { health } });
        this.lastRestart.set(doc._id, this.clock().getTime());
        // Not when an operator's operation got there first: that one decides.
        await this.operations.heal({ ...doc, health }, v.failing!);
        return;
      }
    }
    await this.repo.update(doc._id, { $set: { health } });
  }

  /** 1st restart at once, then interval·2^k apart, capped. */
  private restartDue(slug: string, restarts: number): boolean {
    const last = this.lastRestart.get(slug);
    if (last === undefined || restarts === 0) return true;
    const backoff = Math.min(this.options.intervalMs * 2 ** restarts, this.options.maxBackoffMs ?? 300_000);
    return this.clock().getTime() - last >= backoff;
  }
}
