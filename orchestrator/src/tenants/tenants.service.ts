// Tenant lifecycle: create, start, stop, restart, delete, get and list with
// live status. Each operation takes the tenant's lock in the registry (one at
// a time per tenant, 409 otherwise), runs in the background within the
// platform-wide limit, reports every step as an event, and ends in a clear
// phase. A failed create cleans up after itself: no half-made tenant.
import { randomBytes, randomUUID } from 'node:crypto';
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../api/metrics.js';
import type { TenantMail } from '../mail-relay/mail-relay.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { stackImages } from '../stacks/images.js';
import { names, type Slot } from '../stacks/names.js';
import { groupByTenant, LABEL, otherSlot, renderStack, storageQuotaBytes, type StackSpec } from '../stacks/render.js';
import { generateSecrets } from '../stacks/secrets.js';
import { assertNotAborted, runWithDeadline, type OperationWatch } from '../runtime/deadlines.js';
import { downStack, upStack, type StackStep } from '../stacks/stack-runner.js';
import type { LoadedTemplate } from '../stacks/template-loader.js';
import type { StorageUse } from '../storage/storage-use.js';
import { OperationLimiter } from './op-limiter.js';
import { allocatePort, isPortTaken } from './port-allocator.js';
import { assertValidSlug } from './reserved.js';
import type { TenantsRepository } from './tenants.repository.js';
import type { Operation, OperationKind, Phase, TenantDoc } from './tenant.types.js';
import type { TenantView } from './tenants.schema.js';

export type RouteState = { kind: 'up'; port: number } | { kind: 'down'; state: Exclude<Phase, 'running'> };

/** The slice of the nginx route manager the lifecycle needs. */
export interface TenantRouter {
  setRoute(slug: string, route: RouteState): Promise<void>;
  removeRoute(slug: string): Promise<void>;
}

export interface CreateInput {
  slug: string;
  /** The team's first member (the owner), e.g. from onboarding. */
  ownerEmail?: string;
  displayName?: string;
  plan?: string;
  template?: string;
}

export interface Deps {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  templates: Map<string, LoadedTemplate>;
  router: TenantRouter;
  events: EventBus;
  box: SecretBox;
  metrics: Metrics;
  storage: StorageUse;
  log: Logger;
  /** Identifies this process as the owner of the operations it starts. */
  instanceId: string;
  /** The platform's mail relay; absent when the platform sends no mail. */
  mail?: { tenantMail(slug: string): TenantMail };
  healthTimeoutMs?: number;
}

const STARTABLE: readonly Phase[] = ['stopped', 'failed', 'degraded', 'running'];
const STOPPABLE: readonly Phase[] = ['running', 'degraded', 'failed', 'stopped'];
const DELETABLE: readonly Phase[] = ['running', 'degraded', 'failed', 'stopped', 'provisioning'];
const OWNER_LINKABLE: readonly Phase[] = ['running', 'degraded', 'stopped'];

export class TenantsService {
  private readonly limiter: OperationLimiter;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly d: Deps) {
    this.limiter = new OperationLimiter(d.config.maxParallelOps);
  }

  // ---- reads ------------------------------------------------------------

  /** `measureStorage`: measure the team's stored bytes when the last figure is stale (an exec in its storage container). */
  async get(slug: string, options: { measureStorage?: boolean } = {}): Promise<TenantView & { services: Record<string, string> }> {
    const doc = await this.d.repo.mustGet(slug);
    const containers = await this.d.runtime.listContainers({ [LABEL.platform]: this.d.config.platformId, [LABEL.tenant]: slug });
    const services = this.servicesOf(doc, containers);
    const storage = options.measureStorage ? await this.measuredStorage(doc, services) : this.storageOf(doc);
    return { ...this.view(doc), services, ...(storage ? { storage } : {}) };
  }

  /** Every tenant with the live state of its services, from one Docker list call; storage use as last measured. */
  async list(filter: { phase?: Phase } = {}): Promise<(TenantView & { services: Record<string, string> })[]> {
    const [docs, containers] = await Promise.all([this.d.repo.list(filter), this.d.runtime.listContainers({ [LABEL.platform]: this.d.config.platformId })]);
    const byTenant = groupByTenant(containers);
    return docs.map((doc) => {
      const storage = this.storageOf(doc);
      return { ...this.view(doc), services: this.servicesOf(doc, byTenant.get(doc._id) ?? []), ...(storage ? { storage } : {}) };
    });
  }

  private storageOf(doc: TenantDoc): TenantView['storage'] {
    const template = this.d.templates.get(doc.template);
    const quota = template && storageQuotaBytes(template, doc.plan);
    return quota === undefined ? undefined : this.d.storage.cached(doc._id, quota);
  }

  private async measuredStorage(doc: TenantDoc, services: Record<string, string>): Promise<TenantView['storage']> {
    if (!this.d.templates.get(doc.template)) return undefined;
    const storage = this.specFor(doc).storage;
    return storage && this.d.storage.read(doc._id, storage, services[storage.service] === 'running');
  }

  view(doc: TenantDoc): TenantView {
    return {
      slug: doc._id,
      displayName: doc.displayName,
      plan: doc.plan,
      template: doc.template,
      templateVersion: doc.templateVersion,
      appVersion: doc.appVersion,
      phase: doc.phase,
      desired: doc.desired,
      url: `${this.publicUrl(doc._id)}/`,
      port: doc.port,
      operation: doc.operation && { id: doc.operation.id, kind: doc.operation.kind, step: doc.operation.step, startedAt: doc.operation.startedAt.toISOString() },
      health: doc.health && { ...doc.health, checkedAt: doc.health.checkedAt.toISOString() },
      lastError: doc.lastError && { ...doc.lastError, at: doc.lastError.at.toISOString() },
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString()
    };
  }

  /**
   * The stack this tenant should run, rendered from its template with its
   * secrets; an upgrade renders the same with another version, slot and port.
   */
  specFor(doc: TenantDoc, routed: { appVersion?: string; slot?: Slot; port?: number } = {}): StackSpec {
    const template = this.templateOf(doc);
    const appVersion = routed.appVersion ?? doc.appVersion;
    return renderStack(template, {
      slug: doc._id,
      plan: doc.plan,
      appVersion,
      images: stackImages(this.d.config, appVersion),
      secrets: this.secretsOf(doc, template),
      publishPort: routed.port ?? doc.port,
      slot: routed.slot ?? doc.appSlot ?? 'a',
      platform: this.d.config.platformId,
      publicUrl: this.publicUrl(doc._id),
      ownerEmail: doc.ownerEmail,
      ownerSetupExpiresAt: doc.ownerEmail ? this.ownerLinkExpiry(doc).toISOString() : undefined,
      mail: this.d.mail?.tenantMail(doc._id)
    });
  }

  private templateOf(doc: TenantDoc): LoadedTemplate {
    const template = this.d.templates.get(doc.template);
    if (!template) throw new BerthError('TEMPLATE_NOT_FOUND', `tenant ${doc._id} uses template "${doc.template}", which is not loaded`);
    return template;
  }

  /**
   * The routed service's container in the slot that is not current: the old
   * or the new one of an upgrade, left behind when it was cut short. (A
   * container under the old dash names is not a stray: the next start moves
   * the team, stopping it gracefully first.)
   */
  strays(doc: TenantDoc, containers: ContainerSummary[]): ContainerSummary[] {
    const template = this.d.templates.get(doc.template);
    if (!template) return [];
    const service = template.template['x-berth'].route.service;
    const other = names.container(doc._id, service, otherSlot(doc.appSlot ?? 'a'));
    return containers.filter((c) => c.labels[LABEL.service] === service && c.name === other);
  }

  /** Service → state of the current containers (during an upgrade, the old app is the current one). */
  private servicesOf(doc: TenantDoc, containers: ContainerSummary[]): Record<string, string> {
    const strays = new Set(this.strays(doc, containers));
    return Object.fromEntries(containers.filter((c) => !strays.has(c)).map((c) => [c.labels[LABEL.service] ?? c.name, c.state]));
  }

  /** The tenant's secrets, plus stable derived values for any its template added since. */
  private secretsOf(doc: TenantDoc, template: LoadedTemplate): Record<string, string> {
    const secrets = this.d.box.open<Record<string, string>>(doc.secrets, doc._id);
    for (const name of template.template['x-berth'].secrets ?? []) secrets[name] ??= this.d.box.derive(doc._id, name);
    return secrets;
  }

  publicUrl(slug: string): string {
    const port = this.d.config.nginx.httpPort;
    return `http://${slug}.${this.d.config.baseDomain}${port === 80 ? '' : `:${port}`}`;
  }

  /**
   * The owner's one-time setup link (`<url>/welcome/<token>`): the tenant-app
   * makes the owner from OWNER_EMAIL with OWNER_SETUP_TOKEN as the link's token
   * and refuses it after OWNER_SETUP_EXPIRES_AT. Undefined when the tenant has
   * no owner, its template no such secret, or the link expired. Only for
   * whoever proved they hold the owner's address (onboarding).
   */
  async ownerSetupUrl(slug: string): Promise<string | undefined> {
    const doc = await this.d.repo.mustGet(slug);
    const template = this.d.templates.get(doc.template);
    if (!doc.ownerEmail || !template || this.ownerLinkExpiry(doc) <= new Date()) return undefined;
    const token = this.secretsOf(doc, template).OWNER_SETUP_TOKEN;
    return token ? `${this.publicUrl(slug)}/welcome/${token}` : undefined;
  }

  private ownerLinkExpiry(doc: TenantDoc): Date {
    return doc.ownerLink?.expiresAt ?? new Date(doc.createdAt.getTime() + this.d.config.ownerLinkTtlMs);
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
  async issueOwnerLink(slug: string): Promise<{ url: string; expiresAt: string; operation: { id: string } }> {
    const doc = await this.d.repo.mustGet(slug);
    const template = this.templateOf(doc);
    if (!doc.ownerEmail || !(template.template['x-berth'].secrets ?? []).includes('OWNER_SETUP_TOKEN')) {
      throw new BerthError('OWNER_UNKNOWN', `tenant "${slug}" has no owner to set up (made without ownerEmail, or its template "${doc.template}" has no OWNER_SETUP_TOKEN secret)`);
    }
    const token = randomBytes(32).toString('base64url');
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + this.d.config.ownerLinkTtlMs);
    const secrets = { ...this.secretsOf(doc, template), OWNER_SETUP_TOKEN: token };
    const set = { secrets: this.d.box.seal(secrets, slug), ownerLink: { issuedAt, expiresAt } };
    const { operation } = await this.begin(slug, 'owner-link', OWNER_LINKABLE, set, (locked, step) => this.applyOwnerLink(locked, step));
    this.d.log.info({ tenant: slug, operation: operation.id, expiresAt: expiresAt.toISOString() }, 'new owner setup link issued');
    return { url: `${this.publicUrl(slug)}/welcome/${token}`, expiresAt: expiresAt.toISOString(), operation };
  }

  /** The app of a team that should run is recreated with the new link; a stopped one gets it when it starts. */
  async applyOwnerLink(doc: TenantDoc, step: (name: string) => Promise<void>): Promise<Phase> {
    if (doc.desired !== 'running') return doc.phase;
    return this.bringUp(doc, step);
  }

  /**
   * Whether a new team may take this slug: no tenant has it, and no data of an
   * earlier tenant is kept under it (create would reattach that data, which
   * must never go to a stranger).
   */
  async slugFree(slug: string): Promise<boolean> {
    if (await this.d.repo.get(slug)) return false;
    if (await this.d.repo.retainedSecrets(slug)) return false;
    const volumes = await this.d.runtime.listVolumes({ [LABEL.platform]: this.d.config.platformId, [LABEL.tenant]: slug });
    return volumes.length === 0;
  }

  /** The container of one of the tenant's services; 400 naming the services when there is no such one. */
  async containerOf(slug: string, service: string): Promise<string> {
    const spec = this.specFor(await this.d.repo.mustGet(slug));
    const found = spec.services.find((s) => s.name === service);
    if (!found) {
      throw new BerthError('VALIDATION_FAILED', `tenant "${slug}" has no service "${service}" (services: ${spec.services.map((s) => s.name).join(', ')})`, { field: 'service' });
    }
    return found.container.name;
  }

  /** The container whose log to read: 409 SERVICE_NO_CONTAINER when there is none (a failed or unfinished create). */
  async logContainer(slug: string, service: string): Promise<string> {
    const container = await this.containerOf(slug, service);
    if (!(await this.d.runtime.inspectContainer(container))) {
      throw new BerthError('SERVICE_NO_CONTAINER', `tenant "${slug}" has no ${service} container now (phase ${(await this.d.repo.mustGet(slug)).phase}): there is no log to read`, { field: 'service' });
    }
    return container;
  }

  logs(container: string, tail: number): Promise<string> {
    return this.d.runtime.logs(container, tail);
  }

  followLogs(container: string, tail: number, onLine: (line: string) => void, onEnd: () => void): Promise<() => void> {
    return this.d.runtime.followLogs(container, tail, onLine, onEnd);
  }

  // ---- operations -------------------------------------------------------

  async create(input: CreateInput): Promise<{ tenant: TenantView; operation: { id: string } }> {
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
    const op: Operation = { ...this.newOperation('create'), keepData: kept.length > 0 };
    const now = new Date();
    const doc: TenantDoc = {
      _id: input.slug,
      displayName: input.displayName ?? input.slug,
      ...(input.ownerEmail
        ? { ownerEmail: input.ownerEmail.trim().toLowerCase(), ownerLink: { issuedAt: now, expiresAt: new Date(now.getTime() + this.d.config.ownerLinkTtlMs) } }
        : {}),
      plan,
      template: templateName,
      templateVersion: x.version,
      appVersion: this.d.config.defaultAppVersion,
      phase: 'provisioning',
      desired: 'running',
      port: 0,
      secrets: retained ?? this.d.box.seal(generateSecrets(template), input.slug),
      operation: op,
      createdAt: now,
      updatedAt: now
    };
    const tried = new Set<number>();
    for (;;) {
      doc.port = await allocatePort(this.d.config.portRange, await this.d.repo.usedPorts(), tried);
      if ((await this.d.repo.insert(doc)) === 'ok') break;
      tried.add(doc.port); // another create took it between our read and write
    }
    await this.d.events.publish({ type: 'tenant.created', tenant: doc._id, data: { plan, displayName: doc.displayName } });
    this.launch(doc, op, async (step) => {
      // The "being set up" page is a courtesy: a slow reload must not fail the
      // create (the final route below is checked, and the reconciler mends
      // routes), nor hold up the stack, which starts while nginx reloads (a
      // whole batch, about 0.4 s, was spent before the network step). One
      // slug's changes apply in order, last write wins: the final route wins.
      void this.d.router.setRoute(doc._id, { kind: 'down', state: 'provisioning' }).catch((err: Error) => {
        this.d.log.warn({ tenant: doc._id, err: err.message }, 'provisioning page not routed');
      });
      return this.bringUp(doc, step);
    }, () => this.rollBackCreate(doc._id, !op.keepData));
    return { tenant: this.view(doc), operation: { id: op.id } };
  }

  async start(slug: string) {
    return this.begin(slug, 'start', STARTABLE, { desired: 'running' }, (doc, step) => this.bringUp(doc, step));
  }

  async stop(slug: string) {
    return this.begin(slug, 'stop', STOPPABLE, { desired: 'stopped' }, async (doc, step) => {
      await this.stopContainers(doc, step);
      await step('route');
      await this.d.router.setRoute(doc._id, { kind: 'down', state: 'stopped' });
      return 'stopped';
    });
  }

  async restart(slug: string) {
    return this.begin(slug, 'restart', STARTABLE, { desired: 'running' }, async (doc, step) => {
      await this.stopContainers(doc, step);
      return this.bringUp(doc, step);
    });
  }

  async delete(slug: string, options: { deleteData?: boolean; confirm?: string } = {}) {
    if (options.deleteData && options.confirm !== slug) {
      throw new BerthError('CONFIRMATION_REQUIRED', `deleting the data of "${slug}" needs confirm=${slug} in the request`, { field: 'confirm' });
    }
    return this.begin(slug, 'delete', DELETABLE, {}, async (doc, step) => this.tearDown(doc, step, options.deleteData ?? false), {
      deleteData: options.deleteData ?? false
    });
  }

  /** Waits for every operation this process started (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ---- building blocks (the reconciler and the monitor use these too) ---

  /** Creates what is missing, starts what is stopped, waits for health, routes. */
  async bringUp(doc: TenantDoc, step: (name: string) => Promise<void>): Promise<Phase> {
    for (let attempt = 1; ; attempt++) {
      try {
        await upStack(this.d.runtime, this.specFor(doc), {
          healthTimeoutMs: this.d.healthTimeoutMs,
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
        await this.movePort(doc);
      }
    }
    await this.limitStorage(doc, step);
    await step('route');
    await this.d.router.setRoute(doc._id, { kind: 'up', port: doc.port });
    return 'running';
  }

  /**
   * The store's own cap (MinIO's bucket quota), set once the app has made its
   * bucket. Not a reason to keep a team offline: a failure is logged, stored
   * in the history and shown with the team's storage use, and tried again at
   * the next measure.
   */
  private async limitStorage(doc: TenantDoc, step: (name: string) => Promise<void>): Promise<void> {
    const storage = this.specFor(doc).storage;
    if (!storage?.limit) return;
    await step('storage-limit');
    await this.d.storage.limit(doc._id, storage).catch(async (err: Error) => {
      this.d.log.warn({ tenant: doc._id, err: err.message }, 'storage limit not set');
      await this.d.events.publish({ type: 'storage.limit_failed', tenant: doc._id, data: { message: err.message } });
    });
  }

  private async movePort(doc: TenantDoc): Promise<void> {
    const from = doc.port;
    doc.port = await allocatePort(this.d.config.portRange, await this.d.repo.usedPorts(), new Set([from]));
    await this.d.repo.update(doc._id, { $set: { port: doc.port } });
    this.d.log.warn({ tenant: doc._id, from, to: doc.port }, 'the app port was taken outside Berth; moved to another');
  }

  async stopContainers(doc: TenantDoc, step: (name: string) => Promise<void>): Promise<void> {
    const spec = this.specFor(doc);
    for (const service of [...spec.services].reverse()) {
      await step(`${service.name}:stopping`);
      await this.d.runtime.stopContainer(service.container.name, 20);
    }
  }

  async tearDown(doc: TenantDoc, step: (name: string) => Promise<void>, deleteData: boolean): Promise<Phase> {
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

  newOperation(kind: OperationKind): Operation {
    return { id: randomUUID(), kind, owner: this.d.instanceId, startedAt: new Date(), step: 'queued' };
  }

  async transition(slug: string, from: Phase, to: Phase, data: Record<string, unknown> = {}): Promise<void> {
    if (from !== to) await this.d.events.publish({ type: 'tenant.phase', tenant: slug, data: { from, to, ...data } });
  }

  // ---- internals --------------------------------------------------------

  private async begin(
    slug: string,
    kind: OperationKind,
    allowed: readonly Phase[],
    set: Partial<TenantDoc>,
    work: (doc: TenantDoc, step: (name: string) => Promise<void>) => Promise<Phase>,
    extra: Partial<Operation> = {}
  ): Promise<{ operation: { id: string } }> {
    const op = { ...this.newOperation(kind), ...extra };
    const doc = await this.d.repo.beginOperation(slug, op, allowed, set);
    this.launch(doc, op, (step) => work(doc, step), async () => 'failed');
    return { operation: { id: op.id } };
  }

  /** Writes an operation's outcome (a database write that briefly fails is tried again). */
  private async record(doc: TenantDoc, op: Operation, phase: Phase, error: BerthError | undefined, where: { step: string; call?: string }): Promise<void> {
    const slug = doc._id;
    for (let attempt = 1; ; attempt++) {
      try {
        if (op.kind === 'delete' && !error) {
          await this.d.repo.remove(slug, op.id);
          await this.d.events.publish({ type: 'tenant.deleted', tenant: slug, operation: op.id, data: { deleteData: op.deleteData ?? false } });
        } else {
          await this.d.repo.endOperation(slug, op.id, error
            ? { $set: { phase, lastError: { code: error.code, message: error.message, at: new Date(), ...where } } }
            : { $set: { phase }, $unset: { lastError: '' } });
          await this.transition(slug, doc.phase, phase);
        }
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        this.d.log.warn({ tenant: slug, attempt, err: (err as Error).message }, 'recording the end of an operation failed; trying again');
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** Runs an operation in the background; its outcome is events and the final phase. */
  launch(
    doc: TenantDoc,
    op: Operation,
    work: (step: (name: string) => Promise<void>) => Promise<Phase>,
    onFailure: (err: unknown) => Promise<Phase>
  ): void {
    const slug = doc._id;
    const watch: OperationWatch = { step: op.step };
    const step = async (name: string) => {
      // Work cut short by the deadline reports (and does) nothing more.
      assertNotAborted();
      watch.step = name;
      this.d.log.info({ tenant: slug, op: op.kind, operation: op.id, step: name }, 'operation step');
      // publish() numbers and emits the event before it awaits anything, so
      // steps reported without awaiting still arrive in order.
      const published = this.d.events.publish({ type: 'operation.step', tenant: slug, operation: op.id, data: { kind: op.kind, step: name } });
      await this.d.repo.setStep(slug, op.id, name);
      await published;
    };
    const task = this.limiter
      .run(async () => {
        const started = performance.now();
        await this.d.events.publish({ type: 'operation.started', tenant: slug, operation: op.id, data: { kind: op.kind } });
        let phase: Phase;
        let error: BerthError | undefined;
        let where: { step: string; call?: string } = { step: watch.step };
        try {
          // Each runtime call is bounded, so the abandoned work stops within one call's deadline.
          phase = await runWithDeadline(watch, this.d.config.deadlines.operationMs, this.d.config.deadlines.runtimeCallMs, () => work(step));
        } catch (err) {
          error = err instanceof BerthError ? err : new BerthError('INTERNAL', (err as Error).message);
          const call = (error.details?.call as string | undefined) ?? watch.call;
          where = { step: watch.step, ...(call ? { call } : {}) };
          this.d.log.warn({ tenant: slug, op: op.kind, code: error.code, err: error.message, ...where }, 'operation failed');
          // The clean-up is bounded too: its runtime calls and route changes are.
          phase = await runWithDeadline({ step: 'clean-up' }, this.d.config.deadlines.operationMs, 0, () => onFailure(err)).catch((cleanupErr: Error) => {
            this.d.log.error({ tenant: slug, err: cleanupErr.message }, 'cleanup after a failed operation failed');
            return 'failed' as Phase;
          });
        }
        const seconds = (performance.now() - started) / 1000;
        this.d.metrics.observe('berth_operation_duration_seconds', 'Duration of tenant operations', { kind: op.kind, result: error ? 'failed' : 'ok' }, seconds);
        try {
          await this.record(doc, op, phase, error, where);
        } catch (err) {
          // The end is published all the same: whoever waits on it (--wait, the
          // console, a test) must never wait forever for a database write.
          error ??= new BerthError('DB_UNAVAILABLE', `the operation ended but its outcome was not recorded: ${(err as Error).message}`);
          this.d.log.error({ tenant: slug, op: op.kind, err: (err as Error).message }, 'operation bookkeeping failed');
        }
        await this.d.events.publish({
          type: error ? 'operation.failed' : 'operation.succeeded',
          tenant: slug,
          operation: op.id,
          data: { kind: op.kind, phase: op.kind === 'delete' && !error ? 'deleted' : phase, seconds: Number(seconds.toFixed(3)), ...(error ? { code: error.code, message: error.message, ...where } : {}) }
        });
        this.d.log.info({ tenant: slug, op: op.kind, operation: op.id, result: error ? 'failed' : 'ok', seconds: Number(seconds.toFixed(3)) }, 'operation ended');
      })
      .catch((err: Error) => this.d.log.error({ tenant: slug, err: err.message }, 'operation bookkeeping failed'))
      .finally(() => this.inflight.delete(task));
    this.inflight.add(task);
  }
}
