// Level-triggered reconciler: at start and on an interval it reads the actual
// state fresh (one Docker list call for containers, one for networks) and
// converges it to the registry. It finishes or rolls back operations a dead
// process left half done, recreates missing containers, stops what should be
// stopped, removes containers and networks Berth labelled for tenants that no
// longer exist (never volumes: that is data), removes the other slot's app
// container an interrupted upgrade left behind, and rewrites stale routes.
// What needs an operation (resume, recreate, remove strays) it asks of the
// operation runner (tenants/operations.ts).
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { Periodic } from '../periodic.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { groupByTenant } from '../stacks/render.js';
import { LABEL } from '../runtime/labels.js';
import { downStack } from '../stacks/stack-runner.js';
import type { Operations, Resumers } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { RouteState } from '../tenants/tenant-steps.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantDoc } from '../tenants/tenant.types.js';

/** What the reconciler needs of the route manager. */
export interface RouteInspector {
  setRoute(slug: string, route: RouteState): Promise<void>;
  removeRoute(slug: string): Promise<void>;
  listRoutes(): Promise<string[]>;
  isCurrent(slug: string, route: RouteState): Promise<boolean>;
}

export interface ReconcileReport {
  resumed: string[];
  recreated: string[];
  stopped: string[];
  orphansRemoved: string[];
  /** Containers of a known tenant's routed service that are not its current slot. */
  straysRemoved: string[];
  routesFixed: string[];
}

export class Reconciler {
  private readonly loop: Periodic<ReconcileReport>;

  constructor(
    private readonly repo: TenantsRepository,
    private readonly runtime: ContainerRuntime,
    private readonly stacks: TenantStacks,
    private readonly operations: Operations,
    private readonly routes: RouteInspector,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly options: {
      platformId: string;
      instanceId: string;
      intervalMs: number;
      /** Who finishes or undoes an upgrade, a backup or a restore a dead process left. */
      resumers?: Resumers;
      /** Every container of the platform (one list call, shared: tenants/live-containers.ts); Docker's list when absent. */
      containers?: () => Promise<ContainerSummary[]>;
    }
  ) {
    this.loop = new Periodic(() => this.run(), options.intervalMs, log, 'reconcile');
  }

  start(): void {
    this.loop.start(() => this.pass());
  }

  /** Stops the loop and waits for a pass under way: none runs once this resolves. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass; concurrent callers share the pass in flight. */
  pass(): Promise<ReconcileReport> {
    return this.loop.pass();
  }

  private async run(): Promise<ReconcileReport> {
    const report: ReconcileReport = { resumed: [], recreated: [], stopped: [], orphansRemoved: [], straysRemoved: [], routesFixed: [] };
    const mine = { [LABEL.platform]: this.options.platformId };
    const [docs, containers, networks] = await Promise.all([this.repo.list(), this.options.containers?.() ?? this.runtime.listContainers(mine), this.runtime.listNetworks(mine)]);
    const byTenant = groupByTenant(containers);
    const known = new Set(docs.map((d) => d._id));

    for (const doc of docs) {
      try {
        if (doc.operation) {
          if (doc.operation.owner !== this.options.instanceId && (await this.operations.resume(doc, doc.operation, this.options.resumers))) report.resumed.push(doc._id);
          continue;
        }
        const have = byTenant.get(doc._id) ?? [];
        const strays = this.stacks.strays(doc, have);
        if (strays.length > 0) {
          await this.operations.removeStrays(doc, strays.map((c) => c.name));
          report.straysRemoved.push(...strays.map((c) => c.name));
          continue;
        }
        if (doc.desired === 'running' && (doc.phase === 'running' || doc.phase === 'degraded')) {
          if (this.missingOrStale(doc, have)) {
            await this.operations.recreate(doc);
            report.recreated.push(doc._id);
            continue;
          }
        }
        if (doc.desired === 'stopped' && doc.phase === 'stopped') {
          for (const c of have.filter((c) => c.state === 'running')) {
            await this.runtime.stopContainer(c.name, 20);
            report.stopped.push(c.name);
          }
        }
        const route = desiredRoute(doc, this.stacks);
        if (!(await this.routes.isCurrent(doc._id, route))) {
          await this.routes.setRoute(doc._id, route);
          report.routesFixed.push(doc._id);
        }
      } catch (err) {
        this.log.warn({ tenant: doc._id, err: (err as Error).message }, 'reconcile of tenant failed');
      }
    }

    // Leftovers of tenants the registry no longer has: containers and networks only.
    const orphans = new Set([...byTenant.keys(), ...networks.map((n) => n.labels[LABEL.tenant]).filter((t): t is string => !!t)]);
    for (const slug of orphans) {
      if (known.has(slug)) continue;
      await downStack(this.runtime, slug, { deleteData: false, platform: this.options.platformId });
      report.orphansRemoved.push(slug);
      await this.events.publish({ type: 'reconcile.orphan_removed', tenant: slug });
    }
    for (const slug of await this.routes.listRoutes()) {
      // A tenant registered after this pass read the registry already has its
      // route: ask the registry again before taking a route away.
      if (!known.has(slug) && !(await this.repo.get(slug))) {
        await this.routes.removeRoute(slug);
        report.routesFixed.push(slug);
      }
    }
    if (Object.values(report).some((list) => list.length > 0)) this.log.info({ ...report }, 'reconciled');
    return report;
  }

  private missingOrStale(doc: TenantDoc, have: ContainerSummary[]): boolean {
    const spec = this.stacks.specFor(doc);
    return spec.services.some((s) => {
      const c = have.find((x) => x.name === s.container.name);
      return !c || c.labels[LABEL.configHash] !== s.container.labels[LABEL.configHash];
    });
  }
}

export function desiredRoute(doc: TenantDoc, stacks: Pick<TenantStacks, 'upRoute' | 'sleepRoute'>): RouteState {
  if (doc.phase === 'running' || doc.phase === 'degraded') return stacks.upRoute(doc);
  // A frozen or sleeping team wakes on its next request: nginx hands it to the wake listener.
  if (doc.phase === 'frozen' || doc.phase === 'sleeping') return stacks.sleepRoute();
  return { kind: 'down', state: doc.phase };
}
