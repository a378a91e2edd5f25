// The platform's containers as last listed, by tenant, so that listing every
// team never waits on Docker (a list call over thousands of containers takes
// longer than the whole answer may). One Docker list call serves everyone who
// asks while it runs: the monitor's, reconciler's and stats passes share it.
// A team the platform is acting on is listed again on its own as each of its
// events arrives (a step, a phase change, a deletion), so the list shows the
// change within one small list call; a change made outside Berth (a `docker
// kill`) shows at the next pass, or within `maxAgeMs` when the list is read.
import type { BerthEvent } from '../events/event.schema.js';
import { LABEL } from '../runtime/labels.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import { groupByTenant } from '../stacks/render.js';

export interface LiveContainersOptions {
  platformId: string;
  /** Older than this, a read starts a new list call in the background and answers with what it has. */
  maxAgeMs: number;
  now?: () => number;
}

interface Snapshot {
  /** When the list call that made it began: anything listed on its own after that is newer. */
  startedAt: number;
  byTenant: Map<string, ContainerSummary[]>;
}

export class LiveContainers {
  private snapshot: Snapshot | undefined;
  private listing: Promise<ContainerSummary[]> | undefined;
  /** Per tenant: its own newest answer (kept until a whole list begun later replaces it), and the call in flight. */
  private readonly own = new Map<string, { startedAt: number; containers: ContainerSummary[] }>();
  private readonly tenantListing = new Map<string, Promise<void>>();
  private readonly tenantAgain = new Set<string>();
  private readonly now: () => number;
  private changes = 0;
  /** What the kept containers were, for telling a new answer that changes something from one that does not. */
  private signature = '';

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly options: LiveContainersOptions
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Changes whenever a kept container appears, goes, or changes state: readers keep what they made of the list until then. */
  get version(): number {
    return this.changes;
  }

  /** Every container of the platform, from one Docker list call shared with any caller that asks meanwhile. */
  refresh(): Promise<ContainerSummary[]> {
    this.listing ??= (async () => {
      const startedAt = this.now();
      try {
        const containers = await this.runtime.listContainers({ [LABEL.platform]: this.options.platformId });
        const byTenant = groupByTenant(containers);
        // A tenant listed on its own since this call began keeps that newer answer.
        for (const [tenant, answer] of this.own) {
          if (answer.startedAt <= startedAt) this.own.delete(tenant);
          else if (answer.containers.length > 0) byTenant.set(tenant, answer.containers);
          else byTenant.delete(tenant);
        }
        if (!this.snapshot || this.snapshot.startedAt < startedAt) {
          this.snapshot = { startedAt, byTenant };
          const signature = [...byTenant.values()].map(signatureOf).join('\n');
          if (signature !== this.signature) this.changes++;
          this.signature = signature;
        }
        return containers;
      } finally {
        this.listing = undefined;
      }
    })();
    return this.listing;
  }

  /**
   * Containers by tenant for a reader that can take an answer up to
   * `maxAgeMs` old for changes made outside Berth: the first read waits for
   * a list call; a later one answers at once and, when the snapshot is
   * older, starts a new call.
   */
  async byTenant(): Promise<Map<string, ContainerSummary[]>> {
    // A team listed again after an event published before this read: its
    // answer is part of this read (an operation that ended shows as ended).
    if (this.tenantListing.size > 0) await Promise.allSettled([...this.tenantListing.values()]);
    if (!this.snapshot) await this.refresh();
    else if (this.now() - this.snapshot.startedAt > this.options.maxAgeMs) void this.refresh().catch(() => undefined);
    return this.snapshot!.byTenant;
  }

  /** Lists one tenant's containers now and keeps them; calls for a tenant run one at a time, the last ask always served. */
  refreshTenant(slug: string): Promise<void> {
    const running = this.tenantListing.get(slug);
    if (running) {
      this.tenantAgain.add(slug);
      return running;
    }
    const call = (async () => {
      try {
        do {
          this.tenantAgain.delete(slug);
          await this.listTenant(slug);
        } while (this.tenantAgain.has(slug));
      } finally {
        this.tenantListing.delete(slug);
      }
    })();
    this.tenantListing.set(slug, call);
    return call;
  }

  /** One tenant's containers, listed now (one Docker call) and kept. */
  async listTenant(slug: string): Promise<ContainerSummary[]> {
    const startedAt = this.now();
    const containers = await this.runtime.listContainers({ [LABEL.platform]: this.options.platformId, [LABEL.tenant]: slug });
    this.keep(slug, containers, startedAt);
    return containers;
  }

  private keep(slug: string, containers: ContainerSummary[], startedAt: number): void {
    // An answer older than what is kept (a later call for the team, or a later whole list) is dropped.
    if ((this.own.get(slug)?.startedAt ?? -Infinity) > startedAt || (this.snapshot?.startedAt ?? -Infinity) > startedAt) return;
    this.own.set(slug, { startedAt, containers });
    if (!this.snapshot) return;
    if (signatureOf(this.snapshot.byTenant.get(slug) ?? []) !== signatureOf(containers)) {
      this.changes++;
      this.signature = ''; // the next whole list compares against this change
    }
    if (containers.length > 0) this.snapshot.byTenant.set(slug, containers);
    else this.snapshot.byTenant.delete(slug);
  }

  /** Follows the platform's events: a team something happened to is listed again. Returns the unsubscribe. */
  follow(subscribe: (listener: (event: BerthEvent) => void) => () => void, onError: (slug: string, err: Error) => void): () => void {
    return subscribe((event) => {
      if (!event.tenant || !TRIGGERS.test(event.type)) return;
      const slug = event.tenant;
      this.refreshTenant(slug).catch((err: Error) => onError(slug, err));
    });
  }
}

/** Events after which a team's containers may differ. */
const TRIGGERS = /^(operation\.|tenant\.(phase|deleted|created|version)|health\.|reconcile\.|upgrade\.tenant)/;

/** What the read model shows of a team's containers: which ones (id: made again is another), and their states. */
function signatureOf(containers: ContainerSummary[]): string {
  return containers.map((c) => `${c.id} ${c.name} ${c.state}`).join(',');
}
