// Renders one tenant's stack from a template: names, labels, limits, secrets
// and the order to start services in. Pure: no I/O.
import { createHash } from 'node:crypto';
import { BerthError } from '../errors.js';
import { LABEL } from '../runtime/labels.js';
import type { ContainerSpec, Labels, NetworkSpec, VolumeSpec } from '../runtime/types.js';
import { slugProblem } from '../contract/slug.js';
import { relaxationsOf } from './hardening.js';
import { names, type Slot } from '../names.js';
import { dependencies, serviceOrder } from './service-order.js';
import type { LoadedTemplate } from './template.schema.js';
import type { Limits, Probe, TemplateService } from './template.schema.js';

/**
 * The routed service runs in one of two slots, so an upgrade can start the new
 * container beside the old one (names.container).
 */
export const otherSlot = (slot: Slot): Slot => (slot === 'a' ? 'b' : 'a');

/** Containers of one Docker list call, grouped by the tenant they are labelled for. */
export function groupByTenant<T extends { labels: Labels }>(containers: T[]): Map<string, T[]> {
  const byTenant = new Map<string, T[]>();
  for (const c of containers) {
    const tenant = c.labels[LABEL.tenant];
    if (!tenant) continue;
    const list = byTenant.get(tenant);
    if (list) list.push(c);
    else byTenant.set(tenant, [c]);
  }
  return byTenant;
}

export interface RenderInput {
  slug: string;
  plan?: string;
  appVersion: string;
  images: { app: string; db: string; storage: string };
  /** Values for each name in x-berth.secrets. */
  secrets: Record<string, string>;
  /** Host port for the routed service; 0 lets the engine choose. */
  publishPort?: number;
  /** The owning installation's id (BERTH_PLATFORM_ID). */
  platform?: string;
  /** The team's address through nginx, e.g. http://acme.berth.localhost. */
  publicUrl?: string;
  ownerEmail?: string;
  /** When the owner's one-time setup link stops working (ISO 8601); empty: no owner. */
  ownerSetupExpiresAt?: string;
  /**
   * The team's own account at the platform's mail relay (never the platform's
   * SMTP server), and the /etc/hosts lines that make the relay's name resolve
   * in the services given it. Absent when the platform sends no mail.
   */
  mail?: { smtpUrl: string; from: string; extraHosts: string[] };
  /** The routed service's slot (default a). */
  slot?: Slot;
  /** How often the engine restarts a crashed service itself (BERTH_RESTART_RETRIES); absent or 0: never. */
  restartRetries?: number;
}

export interface ServiceSpec {
  name: string;
  container: ContainerSpec;
  probe: Probe;
  dependsOn: string[];
}

export interface StackSpec {
  tenant: string;
  template: string;
  templateVersion: number;
  plan: string;
  appVersion: string;
  /** The tenant's private network (no route out) and the routed service's edge network (for its published port). */
  networks: NetworkSpec[];
  volumes: VolumeSpec[];
  /** In start order: every service after the ones it depends on. */
  services: ServiceSpec[];
  route: { service: string; port: number };
  /** The team's files: commands run in `container`; absent when the template states no storage quota. */
  storage?: { service: string; container: string; quotaBytes: number; usage: string[]; limit?: string[] };
  /** What this tenant's objects were called under the earlier dash scheme, to move them (legacy-migration.ts). */
  legacy: LegacyObjects;
}

export interface LegacyObjects {
  containers: string[];
  networks: string[];
  /** Each volume's old and new name, and an image that mounts it at `path` (its service's). */
  volumes: { from: string; to: string; volume: string; image: string; path: string }[];
}

/** A tmpfs without a size gets this much; it counts in the container's memory limit. */
const TMPFS_DEFAULT_SIZE = '64m';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Stable hash of a container's spec (labels aside): Compose's config-hash
 * idea. The restart policy is the platform's, not the team's: changing
 * BERTH_RESTART_RETRIES must not recreate every team's containers at once.
 */
export function configHash(spec: ContainerSpec): string {
  const { labels: _labels, restart: _restart, ...rest } = spec;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

export function parseMemory(size: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([kmg]?)$/i.exec(size);
  if (!match) throw new Error(`bad memory size "${size}"`);
  return Math.round(Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1));
}

/** The plan's storage quota in bytes; undefined when the template states none. */
export function storageQuotaBytes(loaded: LoadedTemplate, plan: string): number | undefined {
  const x = loaded.template['x-berth'];
  const quota = x.plans[plan]?.storage_quota;
  return x.storage && quota !== undefined ? parseMemory(quota) : undefined;
}

function limitsOf(limits: Limits) {
  return { memoryBytes: parseMemory(limits.memory), nanoCpus: Math.round(limits.cpus * 1e9), pids: limits.pids };
}

export function renderStack(loaded: LoadedTemplate, input: RenderInput): StackSpec {
  const { template } = loaded;
  const x = template['x-berth'];
  const problem = slugProblem(input.slug);
  if (problem) throw new BerthError('SLUG_INVALID', problem);
  const plan = input.plan ?? x.default_plan;
  const planSpec = x.plans[plan];
  if (!planSpec) {
    throw new BerthError('PLAN_UNKNOWN', `plan "${plan}" does not exist in template ${loaded.name} (plans: ${Object.keys(x.plans).join(', ')})`);
  }
  const quotaBytes = storageQuotaBytes(loaded, plan);
  const vars: Record<string, string> = {
    TENANT: input.slug,
    APP_VERSION: input.appVersion,
    IMAGE_APP: input.images.app,
    IMAGE_DB: input.images.db,
    IMAGE_STORAGE: input.images.storage,
    PUBLIC_URL: input.publicUrl ?? `http://${input.slug}.berth.localhost`,
    OWNER_EMAIL: input.ownerEmail ?? '',
    OWNER_SETUP_EXPIRES_AT: input.ownerSetupExpiresAt ?? '',
    SMTP_URL: input.mail?.smtpUrl ?? '',
    MAIL_FROM: input.mail?.from ?? '',
    STORAGE_QUOTA_BYTES: quotaBytes === undefined ? '' : String(quotaBytes),
    // The store's own cap: MinIO judges by its scanner's figures, a scan cycle
    // (a minute or more) behind, and refuses at usage + object >= cap. At the
    // quota itself it would refuse a team filling it exactly, or one that just
    // deleted files; twice the quota never stops what the app allows and
    // still bounds the disk.
    STORAGE_LIMIT_BYTES: quotaBytes === undefined ? '' : String(2 * quotaBytes)
  };
  for (const name of x.secrets ?? []) {
    const value = input.secrets[name];
    if (!value) throw new BerthError('TEMPLATE_INVALID', `secret ${name} of template ${loaded.name} has no value for tenant ${input.slug}`);
    vars[`SECRET_${name}`] = value;
  }
  // The loader already refused unknown variables, so every lookup succeeds.
  const fill = (text: string) => text.replace(/\$\{([^}]*)\}/g, (_, name: string) => vars[name] ?? '');
  const base: Labels = {
    [LABEL.managed]: 'true',
    [LABEL.platform]: input.platform ?? 'default',
    [LABEL.tenant]: input.slug,
    [LABEL.template]: loaded.name
  };
  const network = names.internalNetwork(input.slug);
  const edge = names.edgeNetwork(input.slug);

  const services = serviceOrder(template.services).order.map((name): ServiceSpec => {
    const svc = template.services[name]!;
    const routed = name === x.route.service;
    const container: ContainerSpec = {
      name: routed ? names.container(input.slug, name, input.slot) : names.container(input.slug, name),
      image: fill(svc.image),
      cmd: svc.command?.map(fill),
      env: Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, fill(String(v))])),
      labels: { ...base, [LABEL.service]: name, [LABEL.appVersion]: input.appVersion, ...(routed ? { [LABEL.slot]: input.slot ?? 'a' } : {}) },
      // Data services sit only on the internal network, so only this tenant's
      // containers reach them; the routed service also joins the edge network,
      // because Docker cannot publish a port from an internal network.
      networks: routed ? [{ name: network, aliases: [name] }, { name: edge, aliases: [name] }] : [{ name: network, aliases: [name] }],
      mounts: mountsOf(svc).map(({ volume, target }) => ({ volume: names.volume(input.slug, volume), target })),
      publish: routed ? { containerPort: x.route.port, hostPort: input.publishPort ?? 0 } : undefined,
      limits: limitsOf(planSpec.limits[name]!),
      ...(svc.user ? { user: svc.user } : {}),
      tmpfs: (svc.tmpfs ?? []).map((entry) => {
        const [target, size] = entry.split(':size=') as [string, string | undefined];
        return { target, sizeBytes: parseMemory(size ?? TMPFS_DEFAULT_SIZE) };
      }),
      relax: relaxationsOf(svc, planSpec.allow),
      ...(input.restartRetries ? { restart: { maxRetries: input.restartRetries } } : {})
    };
    const usesRelay = Object.values(svc.environment ?? {}).some((v) => String(v).includes('${SMTP_URL}'));
    if (usesRelay && input.mail?.smtpUrl) container.extraHosts = input.mail.extraHosts;
    container.labels[LABEL.configHash] = configHash(container);
    return { name, container, probe: svc['x-berth'].probe, dependsOn: dependencies(svc.depends_on) };
  });

  return {
    tenant: input.slug,
    template: loaded.name,
    templateVersion: x.version,
    plan,
    appVersion: input.appVersion,
    networks: [
      { name: network, labels: base, internal: true },
      { name: edge, labels: base }
    ],
    volumes: Object.keys(template.volumes ?? {}).map((v) => ({ name: names.volume(input.slug, v), labels: base })),
    services,
    route: x.route,
    ...(x.storage && quotaBytes !== undefined ? {
      storage: {
        service: x.storage.service,
        container: names.container(input.slug, x.storage.service),
        quotaBytes,
        usage: x.storage.usage.map(fill),
        ...(x.storage.limit ? { limit: x.storage.limit.map(fill) } : {})
      }
    } : {}),
    legacy: legacyObjects(loaded, input.slug, services)
  };
}

function mountsOf(svc: TemplateService): { volume: string; target: string }[] {
  return (svc.volumes ?? []).map((v) => {
    const [volume, target] = v.split(':') as [string, string];
    return { volume, target };
  });
}

function legacyObjects(loaded: LoadedTemplate, slug: string, services: ServiceSpec[]): LegacyObjects {
  const { template } = loaded;
  const image = (service: string) => services.find((s) => s.name === service)!.container.image;
  const routed = template['x-berth'].route.service;
  return {
    containers: Object.keys(template.services).flatMap((s) => [names.legacy.container(slug, s, 'a'), names.legacy.container(slug, s, 'b')]),
    networks: [names.legacy.internalNetwork(slug), names.legacy.edgeNetwork(slug)],
    volumes: Object.keys(template.volumes ?? {}).map((volume) => {
      // Copied through the image of a service that mounts it, at its path; a
      // volume no service mounts holds nothing, but is moved all the same.
      const user = Object.entries(template.services).map(([name, svc]) => ({ name, mount: mountsOf(svc).find((m) => m.volume === volume) })).find((u) => u.mount);
      return {
        from: names.legacy.volume(slug, volume),
        to: names.volume(slug, volume),
        volume,
        image: image(user?.name ?? routed),
        path: user?.mount?.target ?? '/berth-volume'
      };
    })
  };
}
