// The dashboard's tenants as reactive state, kept current by live events.
// Each tenant is one deeply reactive object, so an event re-renders the one
// row (if it is visible) that shows it, not the list.
import { applyEvent, listEffect, placeholder } from './tenant-events';
import type { BerthEvent } from '$contract';
import type { Tenant } from './tenant';

export class TenantTable {
  items = $state<Tenant[]>([]);
  #index = new Map<string, Tenant>();
  #pending = new Map<string, ReturnType<typeof setTimeout>>();

  /** `fetchOne` reads one tenant's full view (the end of an operation, a tenant we missed). */
  constructor(initial: Tenant[], private readonly fetchOne: (slug: string) => Promise<Tenant | null>) {
    this.reset(initial);
  }

  reset(tenants: Tenant[]): void {
    const kept = new Map(this.#index);
    this.items = [...tenants].sort((a, b) => a.slug.localeCompare(b.slug));
    // What only live events told us (stats, when it started running) survives a reload of the list.
    for (const t of this.items) {
      const old = kept.get(t.slug);
      if (old?.stats && !t.stats) t.stats = old.stats;
      if (old?.runningSince && !t.runningSince) t.runningSince = old.runningSince;
    }
    this.#index = new Map(this.items.map((t) => [t.slug, t]));
  }

  get(slug: string): Tenant | undefined {
    return this.#index.get(slug);
  }

  apply(e: BerthEvent): void {
    if (!e.tenant) return;
    const known = this.#index.get(e.tenant);
    const effect = listEffect(e, known !== undefined);
    if (effect === 'remove') return this.remove(e.tenant);
    if (effect === 'add') {
      if (!known) this.insert(placeholder(e));
      this.refetch(e.tenant);
      return;
    }
    if (known) applyEvent(known, e);
    if (effect === 'refetch') this.refetch(e.tenant);
  }

  private insert(t: Tenant): void {
    const at = this.items.findIndex((x) => x.slug.localeCompare(t.slug) > 0);
    this.items.splice(at === -1 ? this.items.length : at, 0, t);
    // The proxy, not the plain object: later events must go through Svelte's state.
    this.#index.set(t.slug, this.items.find((x) => x.slug === t.slug)!);
  }

  private remove(slug: string): void {
    const at = this.items.findIndex((x) => x.slug === slug);
    if (at !== -1) this.items.splice(at, 1);
    this.#index.delete(slug);
    clearTimeout(this.#pending.get(slug));
    this.#pending.delete(slug);
  }

  /** Coalesced: a burst of events about one tenant costs one read. */
  private refetch(slug: string): void {
    if (this.#pending.has(slug)) return;
    this.#pending.set(slug, setTimeout(async () => {
      this.#pending.delete(slug);
      const fresh = await this.fetchOne(slug).catch(() => undefined);
      if (fresh === undefined) return;
      if (fresh === null) return this.remove(slug);
      const t = this.#index.get(slug);
      if (!t) return this.insert(fresh);
      const { stats, runningSince } = t;
      Object.assign(t, fresh, { stats: fresh.stats ?? stats, runningSince: fresh.runningSince ?? runningSince });
      if (!fresh.operation) t.operation = undefined;
      if (!fresh.lastError) t.lastError = undefined;
    }, 250));
  }
}
