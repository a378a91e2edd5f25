// Bulk upgrades as operators see them: the versions there are, a preview of
// the tenants a selection touches, jobs made, listed, approved, paused,
// resumed, cancelled and rolled back. The JobRunner does the work.
import { randomUUID } from 'node:crypto';
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { JobRunner } from './job-runner.js';
import { assertNotEmpty, assertSelection, assertVersion, select, versionsFrom, type Preview } from './selection.js';
import type { AppVersion, UpgradeCounts, UpgradeRequest, UpgradeJobView as JobView, UpgradePreview as PreviewView } from './upgrades.schema.js';
import type { UpgradesRepository } from './upgrades.repository.js';
import { ACTIVE_STATES, TENANT_STATES, type JobAction, type JobState, type Selection, type Strategy, type UpgradeJob } from './upgrade.types.js';

export interface UpgradesDeps {
  config: PlatformConfig;
  repo: UpgradesRepository;
  tenantsRepo: TenantsRepository;
  runtime: ContainerRuntime;
  runner: JobRunner;
  events: EventBus;
  instanceId: string;
}

/** The create body as the schema states it (upgrades.schema.ts). */
export type CreateJobInput = UpgradeRequest;

/** Which states each action moves a job from, and to. */
const ACTIONS: Record<JobAction, { from: readonly JobState[]; to: JobState }> = {
  approve: { from: ['awaiting-approval'], to: 'running' },
  pause: { from: ['running', 'awaiting-approval'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ACTIVE_STATES, to: 'cancelled' }
};

export class UpgradesService {
  /** Conflict check and insert, one job at a time. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: UpgradesDeps) {}

  async versions(): Promise<AppVersion[]> {
    const repository = this.d.config.images.appRepo;
    const [images, docs] = await Promise.all([this.d.runtime.listImages(repository), this.d.tenantsRepo.list()]);
    return versionsFrom(images, repository, docs, this.d.config.defaultAppVersion);
  }

  async preview(input: CreateJobInput): Promise<PreviewView> {
    return this.viewPreview(await this.resolve(input), input.canary ?? 1);
  }

  async create(input: CreateJobInput, createdBy?: string): Promise<JobView> {
    const preview = await this.resolve(input);
    assertNotEmpty(preview);
    const strategy: Strategy = {
      canary: Math.min(input.canary ?? 1, preview.tenants.length),
      concurrency: input.concurrency ?? 2,
      autoApprove: input.autoApprove ?? false,
      maxFailures: input.maxFailures ?? 0,
      healthTimeoutMs: (input.healthTimeoutSeconds ?? this.d.config.upgrades.healthTimeoutMs / 1000) * 1000,
      backup: input.backup ?? 'required'
    };
    const { toVersion, canary: _c, concurrency: _n, autoApprove: _a, maxFailures: _m, healthTimeoutSeconds: _h, backup: _b, ...selection } = input;
    return this.insert({ kind: 'upgrade', toVersion, selection }, strategy, preview, createdBy);
  }

  /** A job that returns each of `slugs` (default: every tenant the job upgraded) to the version it had before. */
  async rollback(id: string, slugs: string[] | undefined, createdBy?: string): Promise<JobView> {
    const source = await this.d.repo.mustGet(id);
    if (source.state === 'running') {
      throw new BerthError('UPGRADE_CONFLICT', `job ${id} is still running: pause or cancel it first, then roll back`);
    }
    const changed = source.tenants.filter((e) => e.state === 'succeeded' && e.from !== e.to);
    const unknown = (slugs ?? []).filter((s) => !source.tenants.some((e) => e.slug === s));
    if (unknown.length > 0) throw new BerthError('VALIDATION_FAILED', `job ${id} did not touch ${unknown.join(', ')}`, { field: 'tenants' });
    const chosen = slugs ? changed.filter((e) => slugs.includes(e.slug)) : changed;
    if (chosen.length === 0) throw new BerthError('UPGRADE_SELECTION_EMPTY', `job ${id} upgraded none of ${slugs ? slugs.join(', ') : 'its tenants'}: nothing to roll back`, { field: 'tenants' });
    const versions = await this.versions();
    for (const v of new Set(chosen.map((e) => e.from))) assertVersion(v, versions, this.d.config.images.appRepo);
    const before = new Map(chosen.map((e) => [e.slug, e.from]));
    const preview = select(await this.d.tenantsRepo.list(), { tenants: [...before.keys()] }, (doc) => before.get(doc._id)!);
    assertNotEmpty(preview);
    // Rolling back gives the source job up: it takes no more tenants.
    if (ACTIVE_STATES.includes(source.state)) {
      await this.d.runner.setState(source, ACTIVE_STATES, 'cancelled', { reason: 'rolled back' });
      await this.d.runner.skipPending(source, 'the job was rolled back');
    }
    const s = source.strategy;
    const strategy: Strategy = { canary: 0, concurrency: s.concurrency, autoApprove: true, maxFailures: preview.tenants.length, healthTimeoutMs: s.healthTimeoutMs, backup: s.backup ?? 'required' };
    return this.insert({ kind: 'rollback', rollbackOf: id, selection: { tenants: [...before.keys()] } }, strategy, preview, createdBy);
  }

  async list(limit = 50): Promise<JobView[]> {
    return (await this.d.repo.list(limit)).map(view);
  }

  async get(id: string): Promise<JobView> {
    return view(await this.d.repo.mustGet(id));
  }

  async act(id: string, action: JobAction): Promise<JobView> {
    const job = await this.d.repo.mustGet(id);
    const { from, to } = ACTIONS[action];
    const moved = await this.d.runner.setState(job, from, to, action === 'approve' ? { approvedAt: new Date() } : {});
    if (!moved) {
      throw new BerthError('UPGRADE_CONFLICT', `cannot ${action} job ${id} while it is ${job.state} (${action} applies to a job that is ${from.join(' or ')})`);
    }
    if (to === 'running') this.d.runner.kick(id);
    // Nobody drives a paused or waiting job: skip its pending tenants here.
    if (to === 'cancelled' && !this.d.runner.isDriving(id)) await this.d.runner.skipPending(moved, 'the job was cancelled before this tenant\'s turn');
    return view((await this.d.repo.get(id)) ?? moved);
  }

  /** Checks version and selection; the tenants it would touch. */
  private async resolve(input: CreateJobInput): Promise<Preview> {
    assertSelection(input);
    assertVersion(input.toVersion, await this.versions(), this.d.config.images.appRepo);
    return select(await this.d.tenantsRepo.list(), input, () => input.toVersion);
  }

  private insert(what: Pick<UpgradeJob, 'kind' | 'toVersion' | 'rollbackOf' | 'selection'>, strategy: Strategy, preview: Preview, createdBy: string | undefined): Promise<JobView> {
    const work = async () => {
      await this.assertNoConflict(preview);
      const now = new Date();
      const job: UpgradeJob = {
        _id: randomUUID(),
        ...what,
        strategy,
        state: 'running',
        tenants: preview.tenants.map(({ doc, to }, i) => ({ slug: doc._id, from: doc.appVersion, to, canary: i < strategy.canary, state: 'pending', attempts: 0 })),
        ...(createdBy ? { createdBy } : {}),
        owner: this.d.instanceId,
        createdAt: now,
        updatedAt: now
      };
      await this.d.repo.insert(job);
      await this.d.events.publish({ type: 'upgrade.created', operation: job._id, data: { kind: job.kind, toVersion: job.toVersion, tenants: job.tenants.length, canary: strategy.canary } });
      this.d.runner.kick(job._id);
      return view(job);
    };
    const result = this.creating.then(work, work);
    this.creating = result.catch(() => undefined);
    return result;
  }

  /** UPGRADE_CONFLICT when a job not at an end still has one of these tenants to do. */
  private async assertNoConflict(preview: Preview): Promise<void> {
    const wanted = new Set(preview.tenants.map((p) => p.doc._id));
    for (const job of await this.d.repo.active()) {
      const held = job.tenants.filter((e) => (e.state === 'pending' || e.state === 'upgrading') && wanted.has(e.slug)).map((e) => e.slug);
      if (held.length > 0) {
        throw new BerthError('UPGRADE_CONFLICT', `job ${job._id} (${job.state}) still has ${held.slice(0, 5).join(', ')}${held.length > 5 ? ', …' : ''} to do; cancel it or wait for it to end`, { job: job._id });
      }
    }
  }

  private viewPreview(preview: Preview, canary: number): PreviewView {
    return {
      tenants: preview.tenants.map(({ doc, to }, i) => ({ slug: doc._id, phase: doc.phase, from: doc.appVersion, to, canary: i < canary })),
      skipped: preview.skipped
    };
  }
}

function view(job: UpgradeJob): JobView {
  const { _id, owner: _owner, tenants, approvedAt, createdAt, updatedAt, endedAt, ...rest } = job;
  const counts = Object.fromEntries(TENANT_STATES.map((s) => [s, 0])) as UpgradeCounts;
  for (const e of tenants) counts[e.state]++;
  return {
    id: _id,
    ...rest,
    counts,
    tenants: tenants.map(({ startedAt, endedAt: ended, sleeper, ...e }) => ({
      ...e,
      // The visits mark is the runner's own bookkeeping.
      ...(sleeper ? { sleeper: { from: sleeper.from, ...(sleeper.wake ? { wake: sleeper.wake } : {}), ...(sleeper.after ? { after: sleeper.after } : {}) } } : {}),
      ...(startedAt ? { startedAt: startedAt.toISOString() } : {}),
      ...(ended ? { endedAt: ended.toISOString() } : {})
    })),
    ...(approvedAt ? { approvedAt: approvedAt.toISOString() } : {}),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    ...(endedAt ? { endedAt: endedAt.toISOString() } : {})
  };
}
