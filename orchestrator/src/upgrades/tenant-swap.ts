// One tenant's zero-downtime upgrade, as a tenant operation of kind
// 'upgrade': start the new app container in the other slot, on a second host
// port, beside the old one; wait for its /healthz through that port; point
// nginx at it (one route-table entry, no reload); wait until nginx holds no more
// connections to the old one; stop it gracefully and remove it. The registry
// switches to the new version, slot and port the moment the route does.
// A new container that fails its health gate is removed and the old one keeps
// serving. The plan is recorded on the operation, so that a process killed at
// any step is finished or undone by resume(); the old container is never
// removed before the route points at a healthy new one.
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { runProbe } from '../runtime/probes.js';
import type { Logger } from '../log.js';
import { waitDrained } from '../proxy/upstream-connections.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { otherSlot, type ServiceSpec, type StackSpec } from '../stacks/render.js';
import { upStack } from '../stacks/stack-runner.js';
import { planNeed, type Admission } from '../capacity/admission.js';
import { allocatePort, isPortTaken } from '../tenants/port-allocator.js';
import type { OperationEnd, Operations } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { RouteState, Step } from '../tenants/tenant-steps.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { Operation, Phase, SwapPlan, TenantDoc } from '../tenants/tenant.types.js';

/** What the swap needs of the route manager. */
export interface SwapRouter {
  setRoute(slug: string, route: RouteState): Promise<void>;
  isCurrent(slug: string, route: RouteState): Promise<boolean>;
}

export interface SwapDeps {
  /** Asked before the second app starts. */
  admission: Admission;
  config: PlatformConfig;
  repo: TenantsRepository;
  stacks: TenantStacks;
  operations: Operations;
  runtime: ContainerRuntime;
  router: SwapRouter;
  events: EventBus;
  log: Logger;
}

export interface SwapOptions {
  healthTimeoutMs?: number;
  /** The job that asked, recorded on the operation. */
  job?: string;
  /** Each step, after it is recorded on the tenant. */
  onStep?: (step: string) => void;
}

/** How the operation ended; whether the tenant now runs the version is read from the registry. */
export type SwapEnd = OperationEnd;

const SWAPPABLE: readonly Phase[] = ['running', 'degraded'];
/** A stopped tenant has no traffic to keep: its next start simply runs the new version. */
const VERSION_ONLY: readonly Phase[] = ['stopped'];
export const UPGRADABLE: readonly Phase[] = [...SWAPPABLE, ...VERSION_ONLY];

const routedOf = (spec: StackSpec): ServiceSpec => spec.services.find((s) => s.name === spec.route.service)!;

export class TenantSwap {
  /** Port choice and its record happen one at a time, so two swaps never pick the same port. */
  private portChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: SwapDeps) {}

  /** Takes the tenant's lock and runs the upgrade to `version` in the background. */
  async start(slug: string, version: string, options: SwapOptions = {}): Promise<{ operation: string; done: Promise<SwapEnd> }> {
    const current = await this.d.repo.mustGet(slug);
    const step = (report: Step) => async (name: string) => {
      await report(name);
      options.onStep?.(name);
    };
    const started = VERSION_ONLY.includes(current.phase)
      ? await this.d.operations.run('upgrade', slug, async (_locked, report, op) => {
          await step(report)('version');
          await this.assertImage(version);
          await this.d.repo.updateUnderOperation(slug, op.id, { $set: { appVersion: version } });
          return 'stopped';
        }, { allowed: VERSION_ONLY, onFailure: async () => 'stopped' })
      : await this.d.operations.run('upgrade', slug, (locked, report, op) => this.swap(locked, op, version, options, step(report)), {
          allowed: SWAPPABLE,
          during: { phase: 'upgrading', from: current.phase },
          why: { reason: `upgrade to ${version}` },
          onFailure: (op) => this.undo(slug, op.id, current.phase)
        });
    return { operation: started.operation.id, done: started.done };
  }

  /**
   * Takes over an upgrade whose process died (the reconciler calls this with
   * the operation already re-owned): finishes it when the route already
   * points at a healthy new container, undoes it otherwise.
   */
  resume(doc: TenantDoc, op: Operation): { work: (step: Step) => Promise<Phase>; onFailure: () => Promise<Phase> } {
    return { work: (step) => this.recover(doc, op, step), onFailure: () => this.undo(doc._id, op.id, 'running') };
  }

  private async swap(doc: TenantDoc, op: Operation, version: string, options: SwapOptions, step: Step): Promise<Phase> {
    await step('prepare');
    await this.assertImage(version);
    // Two apps run side by side until the old one retires: the second takes
    // new room. A refusal fails this swap before anything starts (the team
    // keeps its version, serving); the room is held until the new app is up.
    const release = await this.admitSecondApp(doc);
    try {
      return await this.swapAdmitted(doc, op, version, options, step, release);
    } finally {
      release();
    }
  }

  private admitSecondApp(doc: TenantDoc): Promise<() => void> {
    const spec = this.d.stacks.specFor(doc);
    const need = planNeed(this.d.stacks.templateOf(doc), doc.plan, [spec.route.service]);
    return this.d.admission.admit({ work: 'upgrade', tenant: doc._id, plan: doc.plan, memoryBytes: need.memoryBytes, diskBytes: 0 });
  }

  private async swapAdmitted(doc: TenantDoc, op: Operation, version: string, options: SwapOptions, step: Step, release: () => void): Promise<Phase> {
    const taken = new Set<number>();
    let plan: SwapPlan;
    for (;;) {
      plan = await this.plan(doc, op, version, options.job, taken);
      const next = this.d.stacks.specFor(doc, { appVersion: version, slot: plan.to.slot, port: plan.to.port });
      await step(`start:${version}`);
      try {
        // Only the routed service: the data services do not change (same
        // config hash), and the new app's /healthz, waited for through its
        // own published port, pings them anyway.
        await upStack(this.d.runtime, { ...next, services: [routedOf(next)] }, { healthTimeoutMs: options.healthTimeoutMs ?? this.d.config.upgrades.healthTimeoutMs, ...this.startOptions() });
        break;
      } catch (err) {
        // Something outside this registry (another installation, any process)
        // bound the port between our check and Docker's: take another one.
        if (!isPortTaken(err) || taken.size >= 3) throw err;
        this.d.log.warn({ tenant: doc._id, port: plan.to.port }, 'the new container\'s port was taken meanwhile; trying another');
        taken.add(plan.to.port);
        await this.d.runtime.removeContainer(routedOf(next).container.name);
      }
    }
    release(); // up and measured by the kernel from here on
    await step('healthy');
    await step('route');
    await this.d.router.setRoute(doc._id, this.d.stacks.upRoute(doc, plan.to.port));
    await this.commit(doc._id, op.id, plan);
    await this.retire(doc, plan, step);
    return 'running';
  }

  /** Picks the new container's port and records the plan on the operation. */
  /** The new app starts like any service: boosted and finely probed until healthy. */
  private startOptions(): { startCpus: number; probeIntervalMs: number } {
    return { startCpus: this.d.config.start.cpus, probeIntervalMs: this.d.config.start.probeIntervalMs };
  }

  private plan(doc: TenantDoc, op: Operation, version: string, job: string | undefined, taken: Set<number>): Promise<SwapPlan> {
    const work = async (): Promise<SwapPlan> => {
      const slot = doc.appSlot ?? 'a';
      const tried = new Set<number>([doc.port, ...taken]);
      for (;;) {
        const port = await allocatePort(this.d.config.portRange, await this.d.repo.usedPorts(), tried);
        const plan: SwapPlan = { from: { version: doc.appVersion, slot, port: doc.port }, to: { version, slot: otherSlot(slot), port }, ...(job ? { job } : {}) };
        if (!(await this.d.repo.updateUnderOperation(doc._id, op.id, { $set: { nextPort: port, 'operation.swap': plan } }))) {
          throw new BerthError('OPERATION_CONFLICT', `the upgrade of ${doc._id} lost its operation lock`);
        }
        // A create allocates without this chain; if one took the port meanwhile, take another.
        if (!(await this.d.repo.portTakenByOther(port, doc._id))) return plan;
        tried.add(port);
      }
    };
    const result = this.portChain.then(work, work);
    this.portChain = result.catch(() => undefined);
    return result;
  }

  /** The registry follows the route: new version, slot and port. */
  private async commit(slug: string, opId: string, plan: SwapPlan): Promise<void> {
    await this.d.repo.updateUnderOperation(slug, opId, {
      $set: { appVersion: plan.to.version, appSlot: plan.to.slot, port: plan.to.port },
      $unset: { nextPort: '' }
    });
    await this.d.events.publish({ type: 'tenant.version', tenant: slug, operation: opId, data: { from: plan.from.version, to: plan.to.version } });
  }

  /** Waits for nginx to finish with the old container, then stops it gracefully and removes it. */
  private async retire(doc: TenantDoc, plan: SwapPlan, step: Step): Promise<void> {
    const old = routedOf(this.d.stacks.specFor(doc, { appVersion: plan.from.version, slot: plan.from.slot, port: plan.from.port }));
    await step('drain');
    const drained = await waitDrained(plan.from.port, { timeoutMs: this.d.config.upgrades.drainTimeoutMs });
    if (!drained.drained) {
      this.d.log.warn({ tenant: doc._id, open: drained.open, ms: drained.ms }, 'old app still had connections at the drain deadline; its graceful stop ends them');
    }
    await step('remove-old');
    // Still connected (streams, WebSockets): SIGTERM, and the app finishes what
    // it serves and closes its streams (adapter-node's SHUTDOWN_TIMEOUT).
    // Drained: nothing is left for a graceful stop to finish.
    if (!drained.drained) await this.d.runtime.stopContainer(old.container.name, 30);
    await this.d.runtime.removeContainer(old.container.name);
  }

  /**
   * Puts things back as they were: nginx on the old container (started and
   * checked again if the route had left it), the new container removed, the
   * port it held released. The tenant keeps its version.
   */
  private async undo(slug: string, opId: string, phase: Phase): Promise<Phase> {
    const doc = await this.d.repo.mustGet(slug);
    const plan = doc.operation?.id === opId ? doc.operation.swap : undefined;
    if (!plan) {
      await this.d.repo.updateUnderOperation(slug, opId, { $unset: { nextPort: '' } });
      return phase;
    }
    if ((doc.appSlot ?? 'a') === plan.to.slot) return 'running'; // committed: the new one serves, the old one is the reconciler's to remove
    const oldRoute: RouteState = this.d.stacks.upRoute(doc, plan.from.port);
    if (!(await this.d.router.isCurrent(slug, oldRoute))) {
      await upStack(this.d.runtime, this.d.stacks.specFor(doc), { healthTimeoutMs: this.d.config.upgrades.healthTimeoutMs, ...this.startOptions() });
      await this.d.router.setRoute(slug, oldRoute);
    }
    const next = routedOf(this.d.stacks.specFor(doc, { appVersion: plan.to.version, slot: plan.to.slot, port: plan.to.port }));
    await this.d.runtime.removeContainer(next.container.name);
    await this.d.repo.updateUnderOperation(slug, opId, { $unset: { nextPort: '' } });
    return phase;
  }

  private async recover(doc: TenantDoc, op: Operation, step: Step): Promise<Phase> {
    const plan = op.swap;
    if (!plan) return this.undo(doc._id, op.id, 'running'); // died before anything was started
    if ((doc.appSlot ?? 'a') === plan.to.slot) {
      await step('resume:finish');
      await this.d.router.setRoute(doc._id, this.d.stacks.upRoute(doc, plan.to.port));
      await this.retire(doc, plan, step);
      return 'running';
    }
    const next = routedOf(this.d.stacks.specFor(doc, { appVersion: plan.to.version, slot: plan.to.slot, port: plan.to.port }));
    const info = await this.d.runtime.inspectContainer(next.container.name);
    const healthy = !!info?.running && (await runProbe(this.d.runtime, next.container.name, next.probe, plan.to.port)).ok;
    if (healthy && (await this.d.router.isCurrent(doc._id, this.d.stacks.upRoute(doc, plan.to.port)))) {
      // Killed between the route switch and recording it: the new container serves; keep it.
      await step('resume:finish');
      await this.commit(doc._id, op.id, plan);
      await this.retire(doc, plan, step);
      return 'running';
    }
    await step('resume:undo');
    return this.undo(doc._id, op.id, 'running');
  }

  private async assertImage(version: string): Promise<void> {
    const image = `${this.d.config.images.appRepo}:${version}`;
    if (!(await this.d.runtime.imageExists(image))) {
      throw new BerthError('IMAGE_MISSING', `image ${image} is not on this host: build it with scripts/build-images --only app --app-version ${version}`, { image });
    }
  }
}
