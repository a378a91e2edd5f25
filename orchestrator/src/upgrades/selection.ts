// Which tenants an upgrade touches, and which versions exist to upgrade to.
// Pure: the registry's documents and the engine's image list come in.
import { BerthError } from '../errors.js';
import type { ImageSummary } from '../runtime/types.js';
import type { TenantDoc } from '../tenants/tenant.types.js';
import { isAsleep } from './sleepers.js';
import { UPGRADABLE } from './tenant-swap.js';
import type { Selection } from './upgrade.types.js';
import type { AppVersion } from './upgrades.schema.js';

/** One row per tag of the app repository, newest version first. */
export function versionsFrom(images: ImageSummary[], repository: string, docs: TenantDoc[], defaultVersion: string): AppVersion[] {
  const using = new Map<string, number>();
  for (const d of docs) using.set(d.appVersion, (using.get(d.appVersion) ?? 0) + 1);
  const rows = images.flatMap((image) =>
    image.tags.map((tag) => {
      const version = tag.slice(repository.length + 1);
      return { version, image: tag, createdAt: image.createdAt, tenants: using.get(version) ?? 0, default: version === defaultVersion };
    })
  );
  return rows.sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
}

/** VERSION_UNKNOWN naming the version and what there is, unless it exists. */
export function assertVersion(version: string, versions: AppVersion[], repository: string): void {
  if (versions.some((v) => v.version === version)) return;
  const have = versions.map((v) => v.version).join(', ') || 'none';
  throw new BerthError('VERSION_UNKNOWN', `no tenant-app version "${version}" on this host (${repository} tags: ${have}); build it with scripts/build-images --only app --app-version ${version}`, { field: 'toVersion', version });
}

export interface Picked {
  doc: TenantDoc;
  /** Where this tenant goes (a rollback sends each to its own earlier version). */
  to: string;
}

export interface Preview {
  tenants: Picked[];
  skipped: { slug: string; reason: string }[];
}

/** Checks the selection's shape: exactly one of all, tenants, filter. */
export function assertSelection(sel: Selection): void {
  const given = [sel.all === true, sel.tenants !== undefined, sel.filter !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new BerthError('VALIDATION_FAILED', 'choose the tenants with exactly one of "all": true, "tenants": [slugs] or "filter": {phase, version, slugPrefix}', { field: 'selection' });
  }
  if (sel.tenants && sel.tenants.length === 0) throw new BerthError('UPGRADE_SELECTION_EMPTY', '"tenants" is an empty list: name at least one tenant', { field: 'tenants' });
}

/**
 * The tenants a selection names, in slug order, each with its target; those
 * already there or in a phase that cannot be upgraded are listed as skipped.
 */
export function select(docs: TenantDoc[], sel: Selection, target: (doc: TenantDoc) => string): Preview {
  assertSelection(sel);
  let chosen: TenantDoc[];
  if (sel.tenants) {
    const bySlug = new Map(docs.map((d) => [d._id, d]));
    const unknown = sel.tenants.filter((s) => !bySlug.has(s));
    if (unknown.length > 0) throw new BerthError('TENANT_NOT_FOUND', `no tenant ${unknown.map((s) => `"${s}"`).join(', ')}; nothing was started`, { field: 'tenants' });
    chosen = [...new Set(sel.tenants)].map((s) => bySlug.get(s)!);
  } else if (sel.filter) {
    const f = sel.filter;
    chosen = docs.filter((d) => (!f.phase || d.phase === f.phase) && (!f.version || d.appVersion === f.version) && (!f.slugPrefix || d._id.startsWith(f.slugPrefix)));
  } else {
    chosen = docs;
  }
  const out: Preview = { tenants: [], skipped: [] };
  for (const doc of [...chosen].sort((a, b) => a._id.localeCompare(b._id))) {
    const to = target(doc);
    if (doc.appVersion === to) out.skipped.push({ slug: doc._id, reason: `already runs ${to}` });
    // A sleeping team is included: the job wakes it, upgrades it and puts it back (sleepers.ts).
    else if (!UPGRADABLE.includes(doc.phase) && !isAsleep(doc.phase)) out.skipped.push({ slug: doc._id, reason: `is ${doc.phase}` });
    else out.tenants.push({ doc, to });
  }
  return out;
}

/** UPGRADE_SELECTION_EMPTY saying why, unless something is left to upgrade. */
export function assertNotEmpty(preview: Preview): void {
  if (preview.tenants.length > 0) return;
  const why = preview.skipped.length === 0
    ? 'no tenant matches it'
    : `every tenant it matches is skipped (${preview.skipped.slice(0, 5).map((s) => `${s.slug} ${s.reason}`).join('; ')}${preview.skipped.length > 5 ? '; …' : ''})`;
  throw new BerthError('UPGRADE_SELECTION_EMPTY', `the selection touches no tenant: ${why}`, { field: 'selection' });
}
