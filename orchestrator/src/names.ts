// Every name Berth gives a Docker object, in one place.
//
// Tenant objects are dot-separated: berth.<slug>.<part>[.<suffix>]. Neither a
// slug (contract/slug.ts), nor a template's service or volume name (TEMPLATE_PART,
// checked when a template loads) can contain a dot, so every segment reads back
// unambiguously: the second segment is always the slug, and no slug, service or
// volume can make another tenant's name. Platform objects (its database, its
// network and volume) never contain a dot, so they can never equal a tenant's.
// Containers, networks and volumes are separate Docker namespaces: a volume
// and a service of the same name, or a service called "edge", collide with
// nothing. The earlier dash scheme (berth-<slug>-<service>) let the slug
// "demo-edge" take over the network of the team "demo"; it survives here only
// so that a team made under it can be moved to these names (legacy-migration.ts).

/** A template's service or volume name: no dot, so it never crosses a segment. */
export const TEMPLATE_PART = /^[a-z][a-z0-9-]{0,30}$/;
/** A platform object's name: no dot, so it is never a tenant's. */
export const PLATFORM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;

export type Slot = 'a' | 'b';

const tenant = (slug: string) => `berth.${slug}`;

export const names = {
  /** The routed service's slot b (an upgrade's other container) adds ".b". */
  container: (slug: string, service: string, slot: Slot = 'a') => `${tenant(slug)}.${service}${slot === 'b' ? '.b' : ''}`,
  /** The tenant's private network: its services reach each other and nothing else. */
  internalNetwork: (slug: string) => `${tenant(slug)}.internal`,
  /** The routed service's second network, for its published port. */
  edgeNetwork: (slug: string) => `${tenant(slug)}.edge`,
  volume: (slug: string, volume: string) => `${tenant(slug)}.${volume}`,
  /** Stopped containers that hold an old and a new volume while its data moves to the new name. */
  migrationHelper: (slug: string, volume: string, side: 'from' | 'to') => `${tenant(slug)}.${volume}.migrate-${side}`,
  /** The never-started container that reads a volume for a backup. */
  backupHelper: (slug: string, volume: string) => `${tenant(slug)}.${volume}.backup`,
  /** The never-started container that writes a backup into a volume. */
  restoreHelper: (slug: string, volume: string) => `${tenant(slug)}.${volume}.restore`,

  /** The platform database's objects; `container` is BERTH_PLATFORM_DB_CONTAINER. */
  platformDb: (container: string) => ({ container, network: `${container}-net`, volume: `${container}-data` }),

  /** The dash names Berth used before; only to find a team's objects and move them. */
  legacy: {
    container: (slug: string, service: string, slot: Slot = 'a') => `berth-${slug}-${service}${slot === 'b' ? '-b' : ''}`,
    internalNetwork: (slug: string) => `berth-${slug}`,
    edgeNetwork: (slug: string) => `berth-${slug}-edge`,
    volume: (slug: string, volume: string) => `berth-${slug}-${volume}`
  }
};
