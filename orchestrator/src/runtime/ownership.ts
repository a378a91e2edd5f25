// Who owns a Docker object, and the one check that Berth reuses, joins,
// starts or replaces an existing object only when its labels name the same
// owner as the object Berth wants: a name is a claim, a label is proof.
import { BerthError } from '../errors.js';
import type { Labels } from './types.js';

/** The labels that together name an owner: the installation, the tenant (none for platform objects) and the role. */
export const OWNER_LABELS = { platform: 'berth.platform', tenant: 'berth.tenant', role: 'berth.role' } as const;
const KEYS = Object.values(OWNER_LABELS);

export type ObjectKind = 'container' | 'network' | 'volume';

export function ownerOf(labels: Labels): Labels {
  return Object.fromEntries(KEYS.filter((k) => labels[k] !== undefined).map((k) => [k, labels[k]!]));
}

export function sameOwner(existing: Labels, wanted: Labels): boolean {
  return KEYS.every((k) => existing[k] === wanted[k]);
}

/** Throws NAME_TAKEN naming the object and the owner its labels name, unless they name the wanted owner. */
export function assertSameOwner(kind: ObjectKind, name: string, existing: Labels, wanted: Labels): void {
  if (sameOwner(existing, wanted)) return;
  const owner = ownerOf(existing);
  const described = Object.keys(owner).length > 0 ? Object.entries(owner).map(([k, v]) => `${k}=${v}`).join(', ') : 'no Berth owner labels';
  throw new BerthError(
    'NAME_TAKEN',
    `${kind} ${name} already exists and belongs to another owner (${described}); Berth neither joins, starts nor replaces it. Remove or rename it, or choose another name`,
    { kind, name, owner }
  );
}
