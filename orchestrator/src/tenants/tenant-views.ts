// The read model: tenants as the API shows them, with the live state of their
// services and their storage use, the owner's setup link, and whether a slug
// is free for a new team. Reads only: nothing here changes a tenant.
import type { PlatformConfig } from '../config/config.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { storageQuotaBytes } from '../stacks/render.js';
import { LABEL } from '../runtime/labels.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { StorageUse } from '../storage/storage-use.js';
import type { TenantStacks } from './tenant-stacks.js';
import type { Phase, TenantDoc } from './tenant.types.js';
import type { ActivityView } from '../proxy/edge-activity.schema.js';
import type { TenantView } from './tenants.schema.js';
import type { TenantsRepository } from './tenants.repository.js';
import type { LiveContainers } from './live-containers.js';

export interface ViewsDeps {
  config: PlatformConfig;
  repo: TenantsRepository;
  runtime: ContainerRuntime;
  live: LiveContainers;
  templates: Map<string, LoadedTemplate>;
  stacks: TenantStacks;
  storage: StorageUse;
  /** The teams' activity from the edge as last read (a view is undefined before the first read). */
  activity?: { view(slug: string): ActivityView | undefined; readonly version: number };
  clock: () => Date;
}

export type TenantWithServices = TenantView & { services: Record<string, string> };

export class TenantViews {
  /** The serialized list per phase filter, with the versions of what it was made from. */
  private readonly listCache = new Map<string, { key: string; tenants: TenantWithServices[]; json: string }>();

  constructor(private readonly d: ViewsDeps) {}

  /** `measureStorage`: measure the team's stored bytes when the last figure is stale (an exec in its storage container). */
  async get(slug: string, options: { measureStorage?: boolean } = {}): Promise<TenantWithServices> {
    const doc = await this.d.repo.mustGet(slug);
    const containers = await this.d.live.listTenant(slug);
    const services = this.servicesOf(doc, containers);
    const storage = options.measureStorage ? await this.measuredStorage(doc, services) : this.storageOf(doc);
    const activity = this.d.activity?.view(slug);
    return { ...this.view(doc), services, ...(storage ? { storage } : {}), ...(activity ? { activity } : {}) };
  }

  /** Every tenant with the state of its services as last listed (live-containers.ts: never older than a couple of seconds); storage use as last measured. */
  async list(filter: { phase?: Phase } = {}): Promise<TenantWithServices[]> {
    const [docs, byTenant] = await Promise.all([this.d.repo.list(filter), this.d.live.byTenant()]);
    return docs.map((doc) => {
      const storage = this.storageOf(doc);
      const activity = this.d.activity?.view(doc._id);
      return { ...this.view(doc), services: this.servicesOf(doc, byTenant.get(doc._id) ?? []), ...(storage ? { storage } : {}), ...(activity ? { activity } : {}) };
    });
  }

  /**
   * list() and its text by `serialize`, made again only when something it is
   * made of changed since the last call: a registry document, a container's
   * state, the edge's activity read, a storage figure (each source counts its
   * changes). Building and serializing 2,000 teams takes about 40 ms; most
   * reads (the console, CI polling) find nothing changed.
   */
  async listCached(filter: { phase?: Phase }, serialize: (tenants: TenantWithServices[]) => string): Promise<{ tenants: TenantWithServices[]; json: string }> {
    // First: it waits for a team's own listing under way (an operation that
    // just ended shows as ended) and starts a list call when the last is old.
    await this.d.live.byTenant();
    // Read before building: a change made while building gives the next call another key.
    const key = `${this.d.repo.version}:${this.d.live.version}:${this.d.activity?.version ?? 0}:${this.d.storage.version}`;
    const cached = this.listCache.get(filter.phase ?? '');
    if (cached?.key === key) return cached;
    const tenants = await this.list(filter);
    const made = { key, tenants, json: serialize(tenants) };
    this.listCache.set(filter.phase ?? '', made);
    return made;
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
      url: `${this.d.stacks.publicUrl(doc._id)}/`,
      port: doc.port,
      operation: doc.operation && { id: doc.operation.id, kind: doc.operation.kind, step: doc.operation.step, startedAt: doc.operation.startedAt.toISOString() },
      health: doc.health && { ...doc.health, checkedAt: doc.health.checkedAt.toISOString() },
      lastError: doc.lastError && { ...doc.lastError, at: doc.lastError.at.toISOString() },
      ...(this.d.templates.has(doc.template) ? { sleep: this.sleepOf(doc) } : {}),
      ...(doc.activeAt ? { activeAt: doc.activeAt.toISOString() } : {}),
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString()
    };
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
    if (!doc.ownerEmail || !template || this.d.stacks.ownerLinkExpiry(doc) <= this.d.clock()) return undefined;
    const token = this.d.stacks.secretsOf(doc, template).OWNER_SETUP_TOKEN;
    return token ? `${this.d.stacks.publicUrl(slug)}/welcome/${token}` : undefined;
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

  private sleepOf(doc: TenantDoc): NonNullable<TenantView['sleep']> {
    const times = this.d.stacks.sleepTimes(doc);
    const plan = this.d.stacks.sleepTimes({ ...doc, sleep: undefined });
    return {
      pause: times.pause,
      stop: times.stop,
      plan: { pause: plan.pause, stop: plan.stop },
      ...(doc.sleep && Object.keys(doc.sleep).length > 0 ? { override: doc.sleep } : {})
    };
  }

  private storageOf(doc: TenantDoc): TenantView['storage'] {
    const template = this.d.templates.get(doc.template);
    const quota = template && storageQuotaBytes(template, doc.plan);
    return quota === undefined ? undefined : this.d.storage.cached(doc._id, quota);
  }

  private async measuredStorage(doc: TenantDoc, services: Record<string, string>): Promise<TenantView['storage']> {
    if (!this.d.templates.get(doc.template)) return undefined;
    const storage = this.d.stacks.specFor(doc).storage;
    return storage && this.d.storage.read(doc._id, storage, services[storage.service] === 'running');
  }

  /** Service → state of the current containers (during an upgrade, the old app is the current one). */
  private servicesOf(doc: TenantDoc, containers: ContainerSummary[]): Record<string, string> {
    const strays = new Set(this.d.stacks.strays(doc, containers));
    return Object.fromEntries(containers.filter((c) => !strays.has(c)).map((c) => [c.labels[LABEL.service] ?? c.name, c.state]));
  }
}
