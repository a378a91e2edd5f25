// Tenant commands: create, start, stop, restart, delete, and a new owner
// link. Each checks what the team asked for and hands the work to the
// operation runner (operations.ts), which takes the tenant's lock, runs it in
// the background and ends it in a clear phase. A failed create cleans up
// after itself: no half-made tenant.
import { randomBytes } from 'node:crypto';
import { planNeed, type Admission } from '../capacity/admission.js';
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { LABEL } from '../runtime/labels.js';
import { generateSecrets } from '../stacks/secrets.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { Operations } from './operations.js';
import { allocatePort } from './port-allocator.js';
import { assertValidSlug } from '../contract/reserved.js';
import type { TenantStacks } from './tenant-stacks.js';
import type { Step, TenantSteps } from './tenant-steps.js';
import type { SleepSteps } from './sleep-steps.js';
import type { SleepCommands } from './sleep-commands.js';
import type { SleepSetting } from './sleep.schema.js';
import type { TenantViews } from './tenant-views.js';
import type { Phase, TenantDoc } from './tenant.types.js';
import type { CreateTenantBody, TenantView } from './tenants.schema.js';
import type { TenantsRepository } from './tenants.repository.js';

export interface CommandsDeps {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  templates: Map<string, LoadedTemplate>;
  box: SecretBox;
  stacks: TenantStacks;
  steps: TenantSteps;
  sleepSteps: SleepSteps;
  sleep: SleepCommands;
  views: TenantViews;
  operations: Operations;
  log: Logger;
  clock: () => Date;
  /** Asked before a team's containers come up from nothing. */
  admission: Admission;
}

type Accepted = { operation: { id: string } };

const STARTABLE: readonly Phase[] = ['stopped', 'failed', 'degraded', 'running', 'frozen', 'sleeping'];
const STOPPABLE: readonly Phase[] = ['running', 'degraded', 'failed', 'stopped', 'frozen', 'sleeping'];
const DELETABLE: readonly Phase[] = ['running', 'degraded', 'failed', 'stopped', 'provisioning', 'frozen', 'sleeping'];
const OWNER_LINKABLE: readonly Phase[] = ['running', 'degraded', 'stopped'];
/** Phases with no container up: a start of these takes new room on the host (a frozen team keeps its memory). */
const DOWN: readonly Phase[] = ['stopped', 'failed', 'sleeping'];

export class TenantsService {
  constructor(private readonly d: CommandsDeps) {}

  /** `input` is POST /tenants's body; onboarding passes the same (ownerEmail: the team's first member, its owner). */
  /**
   * `input` is POST /tenants's body; onboarding passes the same (ownerEmail:
   * the team's first member, its owner). `restore`: the new team starts from
   * a backup (backups/): `prepare` fills its volumes before it comes up, at
   * the backup's app version, inside the create operation.
   */
  async create(input: CreateTenantBody, restore?: { from: string; backup: string; appVersion: string; prepare: (doc: TenantDoc, step: Step) => Promise<void> }): Promise<{ tenant: TenantView } & Accepted> {
    assertValidSlug(input.slug);
    const templateName = input.template ?? 'tenant';
    const template = this.d.templates.get(templateName);
    if (!template) throw new BerthError('TEMPLATE_NOT_FOUND', `no template "${templateName}" (have: ${[...this.d.templates.keys()].join(', ')})`);
    const x = template.template['x-berth'];
    const plan = input.plan ?? x.default_plan;
    if (!x.plans[plan]) throw new BerthError('PLAN_UNKNOWN', `no plan "${plan}" (plans: ${Object.keys(x.plans).join(', ')})`, { field: 'plan' });
    // Volumes a deletion kept are reattached with the secrets kept beside
    // them; volumes nobody holds the credentials for are refused, never reused
    // blindly (MinIO would refuse new keys) and never deleted by us.
    const kept = await this.d.runtime.listVolumes({ [LABEL.platform]: this.d.config.platformId, [LABEL.tenant]: input.slug });
    const retained = kept.length > 0 ? await this.d.repo.retainedSecrets(input.slug) : undefined;
    if (kept.length > 0 && !retained) {
      throw new BerthError('TENANT_DATA_EXISTS', `volumes of an earlier tenant "${input.slug}" exist (${kept.map((v) => v.name).join(', ')}) but their credentials are gone; remove them with docker volume rm, or choose another slug`);
    }
    const now = this.d.clock();
    const draft: Omit<TenantDoc, 'phase' | 'operation'> = {
      _id: input.slug,
      displayName: input.displayName ?? input.slug,
      ...(input.ownerEmail
        ? { ownerEmail: input.ownerEmail.trim().toLowerCase(), ownerLink: { issuedAt: now, expiresAt: new Date(now.getTime() + this.d.config.ownerLinkTtlMs) } }
        : {}),
      plan,
      template: templateName,
      templateVersion: x.version,
      appVersion: restore?.appVersion ?? this.d.config.defaultAppVersion,
      desired: 'running',
      port: 0,
      secrets: retained ?? this.d.box.seal(generateSecrets(template), input.slug),
      createdAt: now,
      updatedAt: now
    };
    // Admitted before anything is written or made: a refusal leaves nothing behind.
    const started = await this.d.admission.holdFor({ work: 'create', tenant: input.slug, plan, ...planNeed(template, plan) }, () => this.d.operations.create(
      draft,
      kept.length > 0,
      (doc) => this.insert(doc),
      async (doc, step) => {
        this.d.steps.showProvisioning(doc._id);
        if (restore) await restore.prepare(doc, step);
        return this.d.steps.bringUp(doc, step);
      },
      (op) => this.d.steps.rollBackCreate(input.slug, !op.keepData),
      restore ? { restore: { from: restore.from, backup: restore.backup } } : {}
    ));
    return { tenant: this.d.views.view(started.doc), operation: started.operation };
  }

  // A frozen team's containers are thawed first: a paused container counts
  // as running to the engine (start does nothing) and is not stopped cleanly.
  async start(slug: string): Promise<Accepted> {
    const before = await this.d.repo.mustGet(slug);
    const start = () => this.d.operations.run('start', slug, async (doc, step) => {
      if (doc.phase === 'frozen') await this.d.sleepSteps.thaw(doc);
      return this.d.steps.bringUp(doc, step);
    }, { allowed: STARTABLE, set: { desired: 'running' } });
    const need = { work: 'start' as const, tenant: slug, plan: before.plan, ...planNeed(this.d.stacks.templateOf(before), before.plan) };
    const { operation } = DOWN.includes(before.phase) ? await this.d.admission.holdFor(need, start) : await start();
    return { operation };
  }

  async stop(slug: string): Promise<Accepted> {
    return this.run('stop', slug, STOPPABLE, { desired: 'stopped' }, async (doc, step) => {
      if (doc.phase === 'frozen') await this.d.sleepSteps.thaw(doc);
      return this.d.steps.stop(doc, step, { reportRoute: true });
    });
  }

  /** Now, whatever its idle time: freeze the team (`stop`: stop it). It wakes on its next request. */
  async sleep(slug: string, options: { stop?: boolean } = {}): Promise<Accepted> {
    const { operation } = await (options.stop ? this.d.sleep.stop(slug, { reason: 'asked' }) : this.d.sleep.freeze(slug, { reason: 'asked' }));
    return { operation };
  }

  async wake(slug: string): Promise<Accepted> {
    const { operation } = await this.d.sleep.wake(slug);
    return { operation };
  }

  /** The team's own sleep times over its plan's; an empty setting clears them. */
  async setSleepTimes(slug: string, setting: SleepSetting): Promise<TenantView> {
    return this.d.views.view(await this.d.sleep.setTimes(slug, setting));
  }

  async restart(slug: string): Promise<Accepted> {
    return this.run('restart', slug, STARTABLE, { desired: 'running' }, async (doc, step) => {
      if (doc.phase === 'frozen') await this.d.sleepSteps.thaw(doc);
      await this.d.steps.stopContainers(doc, step);
      return this.d.steps.bringUp(doc, step);
    });
  }

  async delete(slug: string, options: { deleteData?: boolean; confirm?: string } = {}): Promise<Accepted> {
    if (options.deleteData && options.confirm !== slug) {
      throw new BerthError('CONFIRMATION_REQUIRED', `deleting the data of "${slug}" needs confirm=${slug} in the request`, { field: 'confirm' });
    }
    const deleteData = options.deleteData ?? false;
    const { operation } = await this.d.operations.run('delete', slug, (doc, step) => this.d.steps.tearDown(doc, step, deleteData), { allowed: DELETABLE, extra: { deleteData } });
    return { operation };
  }

  /**
   * A new owner setup link, for an owner who lost theirs or let it expire.
   * The token is the app's OWNER_SETUP_TOKEN, so the new one reaches the app
   * the way every setting does: the secret changes with the lock taken, and
   * the app container is recreated with it (a new config hash); at start the
   * app re-arms a still-pending owner with the new token and expiry, which
   * ends the old link. A team whose owner has set a password keeps it: the
   * app ignores the new link then. A stopped team gets it at its next start.
   */
  async issueOwnerLink(slug: string): Promise<{ url: string; expiresAt: string } & Accepted> {
    const doc = await this.d.repo.mustGet(slug);
    const template = this.d.stacks.templateOf(doc);
    if (!doc.ownerEmail || !(template.template['x-berth'].secrets ?? []).includes('OWNER_SETUP_TOKEN')) {
      throw new BerthError('OWNER_UNKNOWN', `tenant "${slug}" has no owner to set up (made without ownerEmail, or its template "${doc.template}" has no OWNER_SETUP_TOKEN secret)`);
    }
    const token = randomBytes(32).toString('base64url');
    const issuedAt = this.d.clock();
    const expiresAt = new Date(issuedAt.getTime() + this.d.config.ownerLinkTtlMs);
    const secrets = { ...this.d.stacks.secretsOf(doc, template), OWNER_SETUP_TOKEN: token };
    const set = { secrets: this.d.box.seal(secrets, slug), ownerLink: { issuedAt, expiresAt } };
    const { operation } = await this.run('owner-link', slug, OWNER_LINKABLE, set, (locked, step) => this.d.steps.applyOwnerLink(locked, step));
    this.d.log.info({ tenant: slug, operation: operation.id, expiresAt: expiresAt.toISOString() }, 'new owner setup link issued');
    return { url: `${this.d.stacks.publicUrl(slug)}/welcome/${token}`, expiresAt: expiresAt.toISOString(), operation };
  }

  /** Waits for every operation this process started (tests, shutdown). */
  settled(): Promise<void> {
    return this.d.operations.settled();
  }

  private async run(kind: 'stop' | 'restart' | 'owner-link', slug: string, allowed: readonly Phase[], set: Partial<TenantDoc>, work: (doc: TenantDoc, step: (name: string) => Promise<void>) => Promise<Phase>): Promise<Accepted> {
    const { operation } = await this.d.operations.run(kind, slug, work, { allowed, set });
    return { operation };
  }


  /** Writes the new tenant on the lowest free port. */
  private async insert(doc: TenantDoc): Promise<void> {
    const tried = new Set<number>();
    for (;;) {
      doc.port = await allocatePort(this.d.config.portRange, await this.d.repo.usedPorts(), tried);
      if ((await this.d.repo.insert(doc)) === 'ok') return;
      tried.add(doc.port); // another create took it between our read and write
    }
  }
}
