// What a template's service asks for beyond the runtime's defaults (every
// container runs with all capabilities dropped, no-new-privileges, a pids
// limit, a read-only root filesystem and a non-root user), and whether its
// plan allows that. The loader refuses a template whose service asks for more
// than any of its plans allows; the renderer passes on only what was allowed.
import { isRootUser } from '../runtime/root-user.js';
import type { Relaxations } from '../runtime/types.js';
import type { Allowance, TemplateService } from './template.schema.js';

export interface Ask {
  /** The Compose setting, as written in the template. */
  setting: 'cap_add' | 'privileged' | 'security_opt' | 'user' | 'read_only';
  allowance: Allowance;
  /** What exactly it asks for, for the error message. */
  detail: string;
}

/** no-new-privileges is the default; asking for it again asks for nothing. */
const HARMLESS_SECURITY_OPT = /^no-new-privileges(?:[:=]true)?$/;

export function asksOf(svc: TemplateService): Ask[] {
  const asks: Ask[] = [];
  if (svc.cap_add && svc.cap_add.length > 0) asks.push({ setting: 'cap_add', allowance: 'cap_add', detail: svc.cap_add.join(', ') });
  if (svc.privileged) asks.push({ setting: 'privileged', allowance: 'privileged', detail: 'true' });
  const weakening = (svc.security_opt ?? []).filter((o) => !HARMLESS_SECURITY_OPT.test(o));
  if (weakening.length > 0) asks.push({ setting: 'security_opt', allowance: 'security_opt', detail: weakening.join(', ') });
  if (svc.user !== undefined && isRootUser(svc.user)) asks.push({ setting: 'user', allowance: 'root_user', detail: `"${svc.user}" (root)` });
  if (svc.read_only === false) asks.push({ setting: 'read_only', allowance: 'writable_rootfs', detail: 'false (a writable root filesystem)' });
  return asks;
}

/** The asks of a service that a plan's allow list does not cover. */
export function refusedAsks(svc: TemplateService, allow: readonly string[] = []): Ask[] {
  return asksOf(svc).filter((a) => !allow.includes(a.allowance));
}

/**
 * What the runtime grants this service beyond its defaults: the asks the plan
 * allows, and running as root when the plan allows that (the image's own user
 * may be root without the template saying so; the runtime checks it).
 */
export function relaxationsOf(svc: TemplateService, allow: readonly string[] = []): Relaxations {
  const relax: Relaxations = {};
  if (allow.includes('root_user')) relax.rootUser = true;
  for (const ask of asksOf(svc)) {
    if (!allow.includes(ask.allowance)) continue;
    if (ask.allowance === 'cap_add') relax.capAdd = svc.cap_add;
    if (ask.allowance === 'privileged') relax.privileged = true;
    if (ask.allowance === 'security_opt') relax.securityOpt = svc.security_opt;
    if (ask.allowance === 'writable_rootfs') relax.writableRootfs = true;
  }
  return relax;
}
