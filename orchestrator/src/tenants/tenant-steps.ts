// The work inside tenant operations: bring a stack up, stop it, tear it down,
// roll back a create. Each is idempotent (a resumed operation runs it again
// from the start), reports its steps through the `step` it is given, and
// returns the phase it leaves the tenant in; only the operation runner
// (operations.ts) records that phase.
import type { PlatformConfig } from '../config/config.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { downStack, upStack, type StackStep } from '../stacks/stack-runner.js';
import type { StorageUse } from '../storage/storage-use.js';
import { allocatePort, isPortTaken } from './port-allocator.js';
import type { SleepRoute, TenantStacks, UpRoute } from './tenant-stacks.js';
import type { Phase, TenantDoc } from './tenant.types.js';
import type { TenantsRepository } from './tenants.repository.js';

export type RouteState = UpRoute | SleepRoute | { kind: 'down'; state: Exclude<Phase, 'running' | 'frozen' | 'sleeping'> };

/** The slice of the nginx route manager the lifecycle needs. */
export interface TenantRouter {
  setRoute(slug: string, route: RouteState): Promise<void>;
  removeRoute(slug: string): Promise<void>;
}

/** Reports one step of the operation it runs in. */
export type Step = (name: string) => Promise<void>;

export interface StepsDeps {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  stacks: TenantStacks;
  router: TenantRouter;
  storage: StorageUse;
  events: EventBus;
  log: Logger;
  healthTimeoutMs?: number;
}

export class TenantSteps {
  constructor(private readonly d: StepsDeps) {}

  /** Creates what is missing, starts what is stopped, waits for health, routes. */
  async bringUp(doc: TenantDoc, step: Step): Promise<Phase> {
    for (let attempt = 1; ; attempt++) {
      try {
        await upStack(this.d.runtime, this.d.stacks.specFor(doc), {
          healthTimeoutMs: this.d.healthTimeoutMs,
          startCpus: this.d.config.start.cpus,
          probeIntervalMs: this.d.config.start.probeIntervalMs,
          // A step not recorded (the registry's database gone meanwhile) must
          // not become an unhandled rejection, which would end the process.
          onStep: (s: StackStep) => {
            if (s.step === 'migrate') this.d.log.info({ tenant: doc._id, ...s.report }, 'moved the tenant to its new object names');
            const name = s.step === 'service' ? `${s.service}:${s.status}` : s.step;
            step(name).catch((err: Error) => this.d.log.warn({ tenant: doc._id, step: name, err: err.message }, 'operation step not recorded'));
          }
        });
        break;
      } catch (err) {
        // The app's port was bound by someone outside this registry after we
        // chose it: move the app to another port (its container is recreated,
        // its config hash names the port) rather than fail the tenant.
        if (!isPortTaken(err) || attempt >= 3) throw err;
        doc = await this.movePort(doc);
      }
    }
    await this.limitStorage(doc, step);
    await step('route');
    await this.d.router.setRoute(doc._id, this.d.stacks.upRoute(doc));
    return 'running';
  }

  /** Stops every service, last first; `route`: then show the "stopped" page (a resumed stop did not report that step). */
  async stop(doc: TenantDoc, step: Step, options: { reportRoute: boolean }): Promise<Phase> {
    await this.stopContainers(doc, step);
    if (options.reportRoute) await step('route');
    await this.d.router.setRoute(doc._id, { kind: 'down', state: 'stopped' });
    return 'stopped';
  }

  /** Stops every service, last first, and leaves the route alone (a restart brings them up again). */
  async stopContainers(doc: TenantDoc, step: Step): Promise<void> {
    const spec = this.d.stacks.specFor(doc);
    for (const service of [...spec.services].reverse()) {
      await step(`${service.name}:stopping`);
      await this.d.runtime.stopContainer(service.container.name, 20);
    }
  }

  /**
   * A team that kept crashing: every service stopped (a stop through the
   * engine also ends Docker's own restarts) and its route says "failed".
   */
  async halt(doc: TenantDoc, step: Step): Promise<void> {
    await this.stopContainers(doc, step);
    await step('route');
    await this.d.router.setRoute(doc._id, { kind: 'down', state: 'failed' });
  }

  async tearDown(doc: TenantDoc, step: Step, deleteData: boolean): Promise<Phase> {
    await step('containers');
    await downStack(this.d.runtime, doc._id, { deleteData, platform: this.d.config.platformId });
    await step('route');
    await this.d.router.removeRoute(doc._id);
    if (deleteData) await this.d.repo.forgetRetained(doc._id);
    else await this.d.repo.retain(doc._id, doc.secrets);
    this.d.storage.forget(doc._id);
    return 'deleting';
  }

  /**
   * A create that cannot finish leaves a cleanly failed tenant: no container,
   * network or volume it made (nothing of a tenant that never ran is worth
   * keeping; reattached volumes are kept), and a route that says so. Delete
   * it, or start it to try again.
   */
  async rollBackCreate(slug: string, deleteData: boolean): Promise<Phase> {
    await downStack(this.d.runtime, slug, { deleteData, platform: this.d.config.platformId });
    await this.d.router.setRoute(slug, { kind: 'down', state: 'failed' }).catch((err: Error) => {
      this.d.log.warn({ tenant: slug, err: err.message }, 'could not route the failed tenant');
    });
    return 'failed';
  }

  /** The app of a team that should run is recreated with the new link; a stopped one gets it when it starts. */
  async applyOwnerLink(doc: TenantDoc, step: Step): Promise<Phase> {
    if (doc.desired !== 'running') return doc.phase;
    return this.bringUp(doc, step);
  }

  /**
   * The "being set up" page is a courtesy: nginx restarting at that moment
   * must not fail the create (the final route is checked, and the reconciler
   * mends routes), nor hold up the stack. One slug's changes apply in the
   * order they were asked for: the final route wins.
   */
  showProvisioning(slug: string): void {
    void this.d.router.setRoute(slug, { kind: 'down', state: 'provisioning' }).catch((err: Error) => {
      this.d.log.warn({ tenant: slug, err: err.message }, 'provisioning page not routed');
    });
  }

  /**
   * The store's own cap (MinIO's bucket quota), set once the app has made its
   * bucket. Not a reason to keep a team offline: a failure is logged, stored
   * in the history and shown with the team's storage use, and tried again at
   * the next measure.
   */
  private async limitStorage(doc: TenantDoc, step: Step): Promise<void> {
    const storage = this.d.stacks.specFor(doc).storage;
    if (!storage?.limit) return;
    await step('storage-limit');
    await this.d.storage.limit(doc._id, storage).catch(async (err: Error) => {
      this.d.log.warn({ tenant: doc._id, err: err.message }, 'storage limit not set');
      await this.d.events.publish({ type: 'storage.limit_failed', tenant: doc._id, data: { message: err.message } });
    });
  }

  /** The tenant as it is now, on its new port (registry documents are never changed in place). */
  private async movePort(doc: TenantDoc): Promise<TenantDoc> {
    const from = doc.port;
    const port = await allocatePort(this.d.config.portRange, await this.d.repo.usedPorts(), new Set([from]));
    const moved = (await this.d.repo.update(doc._id, { $set: { port } })) ?? { ...doc, port };
    this.d.log.warn({ tenant: doc._id, from, to: port }, 'the app port was taken outside Berth; moved to another');
    return moved;
  }
}
