// The work inside the sleep operations: freeze (docker pause), stop for sleep,
// and wake. Like tenant-steps.ts, each is idempotent (a process killed in the
// middle leaves its operation, and the reconciler runs the work again from the
// start: a half-frozen team ends fully frozen, a half-woken one fully awake),
// and returns the phase it leaves; operations.ts records it.
//
// Order matters for the requests in flight. Going to sleep, the route changes
// first (new requests go to the wake listener), then the containers pause: a
// request never meets a paused app through an `up` route. Waking, every
// container is thawed and the app answers before the route says `up`.
// Stopped for sleep, a team keeps only its volumes: the wake makes its
// networks and containers again.
import type { PlatformConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { LABEL } from '../runtime/labels.js';
import { runProbe } from '../runtime/probes.js';
import { downStack } from '../stacks/stack-runner.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { TenantStacks } from './tenant-stacks.js';
import type { Step, TenantRouter, TenantSteps } from './tenant-steps.js';
import type { Phase, TenantDoc } from './tenant.types.js';

export interface SleepStepsDeps {
  config: PlatformConfig;
  runtime: ContainerRuntime;
  stacks: TenantStacks;
  steps: TenantSteps;
  router: TenantRouter;
  log: Logger;
}

/** Told the moment a woken team's app answers, before the bookkeeping: a held request may go on. */
export type OnAwake = (port: number) => void;

export class SleepSteps {
  constructor(private readonly d: SleepStepsDeps) {}

  /** Route to the wake listener, then pause every container: memory kept, no CPU. */
  async freeze(doc: TenantDoc, step: Step): Promise<Phase> {
    await step('route');
    await this.d.router.setRoute(doc._id, this.d.stacks.sleepRoute());
    await step('pausing');
    await Promise.all(this.containers(doc).map((name) => this.d.runtime.pauseContainer(name)));
    return 'frozen';
  }

  /**
   * Route to the wake listener, stop every container, last first (a frozen
   * one is thawed to be stopped), then let go of the containers and the
   * networks: a sleeping team holds only its volumes (its data) and its
   * registry entry. Every network costs the whole host: Docker 20.10 writes
   * iptables rules for each, and each later network or port change pays for
   * all of them (bench/network-scale.bench.ts: create 59 ms with none, 139 ms
   * with 400, about 1 s with 900), so a host of a thousand mostly sleeping
   * teams must not keep two networks per sleeper. The wake makes them again
   * from the same spec (stack-runner.ts), as a create does.
   */
  async sleep(doc: TenantDoc, step: Step): Promise<Phase> {
    await step('route');
    await this.d.router.setRoute(doc._id, this.d.stacks.sleepRoute());
    await this.thaw(doc);
    await this.d.steps.stopContainers(doc, step);
    await step('release');
    await downStack(this.d.runtime, doc._id, { deleteData: false, platform: this.d.config.platformId });
    return 'sleeping';
  }

  /**
   * Thaws every container; a frozen team whose app then answers is up at once.
   * Otherwise (stopped, or a container gone) the stack is brought up as a
   * start does, waiting for every probe. The route goes back to `up` last.
   */
  async wake(doc: TenantDoc, step: Step, onAwake: OnAwake = () => {}): Promise<Phase> {
    // Steps are reported without waiting on their database writes: a visitor waits on this.
    const report = (name: string) => void step(name).catch((err: Error) => this.d.log.warn({ tenant: doc._id, step: name, err: err.message }, 'operation step not recorded'));
    report('thawing');
    if (doc.phase === 'frozen') {
      // The short path: every container unpaused at once, no list call first
      // (under load the engine's list alone took hundreds of ms). The app was
      // answering when it was frozen and picks up where it stopped, so the
      // held requests go on at once; its probe then confirms before the route
      // says `up` (an app that does not answer falls through to a full start).
      const thawed = await Promise.all(this.containers(doc).map((name) => this.d.runtime.unpauseContainer(name).then(() => true, (err: Error) => {
        this.d.log.info({ tenant: doc._id, container: name, err: err.message }, 'not unpaused; the team is started instead');
        return false;
      })));
      if (thawed.every(Boolean)) {
        onAwake(doc.port);
        if (await this.appAnswers(doc)) {
          report('route');
          await this.d.router.setRoute(doc._id, this.d.stacks.upRoute(doc));
          return 'running';
        }
      }
    }
    await this.thaw(doc);
    // bringUp routes the team itself once every probe passes.
    const phase = await this.d.steps.bringUp(doc, async (name) => {
      if (name === 'route') onAwake(doc.port);
      await step(name);
    });
    return phase;
  }

  /** Every paused container of the team unpaused (one list call; those not paused are left as they are). */
  async thaw(doc: TenantDoc): Promise<void> {
    const mine = new Set(this.containers(doc));
    const paused = (await this.d.runtime.listContainers({ [LABEL.platform]: this.d.config.platformId, [LABEL.tenant]: doc._id }))
      .filter((c) => c.state === 'paused' && mine.has(c.name));
    await Promise.all(paused.map((c) => this.d.runtime.unpauseContainer(c.name)));
  }

  /** A wake that failed leaves nothing half awake: every container stopped, and the route says failed. */
  async failWake(doc: TenantDoc): Promise<void> {
    await this.thaw(doc);
    await this.d.steps.stopContainers(doc, async () => {});
    await this.d.router.setRoute(doc._id, { kind: 'down', state: 'failed' });
  }

  private containers(doc: TenantDoc): string[] {
    return this.d.stacks.specFor(doc).services.map((s) => s.container.name);
  }

  /** The routed service's own probe (the app's /healthz pings its database and storage). */
  private async appAnswers(doc: TenantDoc): Promise<boolean> {
    const spec = this.d.stacks.specFor(doc);
    const routed = spec.services.find((s) => s.name === spec.route.service);
    if (!routed) return false;
    return (await runProbe(this.d.runtime, routed.container.name, routed.probe, doc.port)).ok;
  }
}
