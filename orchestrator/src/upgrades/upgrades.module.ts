// The upgrades domain wired together, once, for the platform.
import type { Db } from 'mongodb';
import type { Admission } from '../capacity/admission.js';
import type { PlatformConfig } from '../config/config.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { Operations } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { SleepCommands } from '../tenants/sleep-commands.js';
import { JobRunner, type RunnerDeps } from './job-runner.js';
import { Sleepers, type Visits } from './sleepers.js';
import { TenantSwap, type SwapRouter } from './tenant-swap.js';
import { UpgradesRepository } from './upgrades.repository.js';
import { UpgradesService } from './upgrades.service.js';

export interface UpgradesModule {
  repo: UpgradesRepository;
  swap: TenantSwap;
  runner: JobRunner;
  service: UpgradesService;
  init(): Promise<void>;
}

export function createUpgradesModule(deps: {
  db: Db;
  config: PlatformConfig;
  tenantsRepo: TenantsRepository;
  stacks: TenantStacks;
  operations: Operations;
  runtime: ContainerRuntime;
  router: SwapRouter;
  /** Sleeping teams are woken for their upgrade and put back after. */
  sleep: Pick<SleepCommands, 'wake' | 'freeze' | 'stop'>;
  visits: Visits;
  events: EventBus;
  log: Logger;
  instanceId: string;
  /** Asked before an upgrade's second app starts. */
  admission: Admission;
  /** The pre-upgrade backup of a team (backups/); absent: none. */
  backupBefore?: RunnerDeps['backupBefore'];
}): UpgradesModule {
  const repo = new UpgradesRepository(deps.db);
  const swap = new TenantSwap({ config: deps.config, repo: deps.tenantsRepo, stacks: deps.stacks, operations: deps.operations, runtime: deps.runtime, router: deps.router, events: deps.events, log: deps.log, admission: deps.admission });
  const sleepers = new Sleepers({ sleep: deps.sleep, tenantsRepo: deps.tenantsRepo, visits: deps.visits, log: deps.log });
  const runner = new JobRunner({ repo, tenantsRepo: deps.tenantsRepo, swap, sleepers, backupBefore: deps.backupBefore, events: deps.events, log: deps.log, instanceId: deps.instanceId });
  const service = new UpgradesService({ config: deps.config, repo, tenantsRepo: deps.tenantsRepo, runtime: deps.runtime, runner, events: deps.events, instanceId: deps.instanceId });
  return { repo, swap, runner, service, init: () => repo.init() };
}
