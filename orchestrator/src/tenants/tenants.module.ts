// The tenants domain wired together, once, for the platform: what a tenant
// runs (stacks), how it is shown (views), its logs, the work inside its
// operations (steps), the one owner of operations, and the commands.
import type { Metrics } from '../api/metrics.js';
import type { Admission } from '../capacity/admission.js';
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { TenantMail } from './tenant.types.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { StorageUse } from '../storage/storage-use.js';
import type { ActivityView } from '../proxy/edge-activity.schema.js';
import { Operations } from './operations.js';
import { TenantLogs } from './tenant-logs.js';
import { TenantStacks } from './tenant-stacks.js';
import { TenantSteps, type TenantRouter } from './tenant-steps.js';
import { TenantViews } from './tenant-views.js';
import { LiveContainers } from './live-containers.js';
import type { TenantsRepository } from './tenants.repository.js';
import { TenantsService } from './tenants.service.js';
import { SleepSteps } from './sleep-steps.js';
import { SleepCommands } from './sleep-commands.js';

export interface TenantsModule {
  stacks: TenantStacks;
  views: TenantViews;
  /** The platform's containers as last listed: the passes refresh it, the tenant list reads it. */
  live: LiveContainers;
  logs: TenantLogs;
  steps: TenantSteps;
  operations: Operations;
  commands: TenantsService;
  /** Freeze, stop for sleep, wake (the sleep policy and the wake listener ask here). */
  sleep: SleepCommands;
}

/**
 * How old the containers behind the tenant list may be before a read starts a
 * new Docker list call: changes Berth makes show at once (live-containers.ts).
 */
const LIST_MAX_AGE_MS = 2000;

export function createTenantsModule(deps: {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  templates: Map<string, LoadedTemplate>;
  router: TenantRouter;
  events: EventBus;
  box: SecretBox;
  metrics: Metrics;
  storage: StorageUse;
  /** The team's activity from the edge, for the views. */
  activity?: { view(slug: string): ActivityView | undefined; readonly version: number };
  log: Logger;
  /** Identifies this process as the owner of the operations it starts. */
  instanceId: string;
  /** The platform's mail relay; absent when the platform sends no mail. */
  mail?: { tenantMail(slug: string): TenantMail };
  healthTimeoutMs?: number;
  clock?: () => Date;
  /** Asked before a team's containers come up from nothing (create, start, wake from sleeping). */
  admission: Admission;
}): TenantsModule {
  const { config, repo, runtime, templates, events, log } = deps;
  const clock = deps.clock ?? (() => new Date());
  const stacks = new TenantStacks({ config, templates, box: deps.box, mail: deps.mail });
  const live = new LiveContainers(runtime, { platformId: config.platformId, maxAgeMs: LIST_MAX_AGE_MS });
  live.follow((listener) => events.subscribe(listener), (slug, err) => log.warn({ tenant: slug, err: err.message }, 'containers not listed'));
  const views = new TenantViews({ config, repo, runtime, live, templates, stacks, storage: deps.storage, activity: deps.activity, clock });
  const logs = new TenantLogs({ repo, runtime, stacks });
  const steps = new TenantSteps({ config, repo, runtime, stacks, router: deps.router, storage: deps.storage, events, log, healthTimeoutMs: deps.healthTimeoutMs });
  const sleepSteps = new SleepSteps({ config, runtime, stacks, steps, router: deps.router, log });
  const operations = new Operations({ config, repo, runtime, stacks, steps, sleep: sleepSteps, events, metrics: deps.metrics, log, instanceId: deps.instanceId, clock });
  const sleep = new SleepCommands({ repo, operations, sleep: sleepSteps, stacks, events, metrics: deps.metrics, admission: deps.admission });
  const commands = new TenantsService({ config, repo, runtime, templates, box: deps.box, stacks, steps, sleepSteps, sleep, views, operations, log, clock, admission: deps.admission });
  return { stacks, views, live, logs, steps, operations, commands, sleep };
}
