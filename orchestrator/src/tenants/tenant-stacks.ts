// What a tenant runs: its stack rendered from its template with its secrets,
// its public address, and its owner's setup-link expiry. Pure reads of the
// tenant's document and the loaded templates: no database, no engine.
import type { PlatformConfig } from '../config/config.js';
import { publicOrigin } from '../config/tls.config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import type { TenantMail } from './tenant.types.js';
import type { ContainerSummary } from '../runtime/types.js';
import { stackImages } from '../stacks/images.js';
import { names, type Slot } from '../names.js';
import { otherSlot, renderStack, type StackSpec } from '../stacks/render.js';
import { LABEL } from '../runtime/labels.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { planEdge } from '../stacks/plan-edge.js';
import { sleepTimes, type SleepTimes } from '../stacks/plan-sleep.js';
import type { EdgeLimits } from '../proxy/route-entry.js';
import type { TenantDoc } from './tenant.types.js';

/** An `up` route as TenantStacks.upRoute makes it: port, body size and edge limits of the plan. */
export type UpRoute = { kind: 'up'; port: number; maxBodySize: string; limits: EdgeLimits };

/** A frozen or sleeping team's route: nginx hands its requests to the wake listener at `wake`. */
export type SleepRoute = { kind: 'sleeping'; wake: string };

export interface StacksDeps {
  config: PlatformConfig;
  templates: Map<string, LoadedTemplate>;
  box: SecretBox;
  /** The platform's mail relay; absent when the platform sends no mail. */
  mail?: { tenantMail(slug: string): TenantMail };
}

export class TenantStacks {
  constructor(private readonly d: StacksDeps) {}

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
      mail: this.d.mail?.tenantMail(doc._id),
      restartRetries: this.d.config.healing.restartRetries
    });
  }

  /**
   * The one place a tenant's `up` route is made: its app's port (another one
   * during an upgrade) and its plan's limits at the edge. Every writer of the
   * route and the reconciler's comparison use it, so a plan change shows as a
   * stale route.
   */
  upRoute(doc: TenantDoc, port: number = doc.port): UpRoute {
    return { kind: 'up', port, ...planEdge(this.templateOf(doc), doc.plan) };
  }

  /** When the team sleeps: its plan's times with its own override on top. */
  sleepTimes(doc: TenantDoc): SleepTimes {
    return sleepTimes(this.templateOf(doc), doc.plan, doc.sleep);
  }

  /** A frozen or sleeping team's route: nginx asks the orchestrator's wake listener to wake it. */
  sleepRoute(): SleepRoute {
    return { kind: 'sleeping', wake: `127.0.0.1:${this.d.config.wake.port}` };
  }

  templateOf(doc: TenantDoc): LoadedTemplate {
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

  /** The tenant's secrets, plus stable derived values for any its template added since. */
  secretsOf(doc: TenantDoc, template: LoadedTemplate): Record<string, string> {
    const secrets = this.d.box.open<Record<string, string>>(doc.secrets, doc._id);
    for (const name of template.template['x-berth'].secrets ?? []) secrets[name] ??= this.d.box.derive(doc._id, name);
    return secrets;
  }

  /** https:// when nginx terminates TLS: the app's cookies are Secure exactly then (tenant-app sessions). */
  publicUrl(slug: string): string {
    const { tls, nginx, baseDomain } = this.d.config;
    return publicOrigin(tls, nginx.httpPort, `${slug}.${baseDomain}`);
  }

  ownerLinkExpiry(doc: TenantDoc): Date {
    return doc.ownerLink?.expiresAt ?? new Date(doc.createdAt.getTime() + this.d.config.ownerLinkTtlMs);
  }
}
