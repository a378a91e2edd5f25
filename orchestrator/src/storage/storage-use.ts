// A team's stored bytes against its plan's quota, for operators. Read in the
// team's storage container with the template's `usage` command (the bytes
// under MinIO's /data), not asked of the team's app: the app enforces the
// quota, this checks it without trusting the app. Kept per tenant for
// maxAgeMs, so a list or a busy page never costs a container exec; a single
// tenant's read measures again once the figure is older. The template's
// `limit` command sets the store's own cap (MinIO's hard bucket quota): after
// every bring-up, and once per process before the first measure, which covers
// teams brought up before their store had one.
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { StackSpec } from '../stacks/render.js';
import type { StorageView } from './storage.schema.js';

type Storage = NonNullable<StackSpec['storage']>;

interface Measured {
  usedBytes?: number;
  checkedAt?: Date;
  /** The last attempt, good or not: a failing store is not asked again on every read either. */
  triedAt: Date;
  error?: string;
}

export interface StorageUseOptions {
  /** How old a figure may be before a single tenant's read measures again. */
  maxAgeMs: number;
  /** How long the usage or limit command may run. */
  timeoutMs: number;
}

export class StorageUse {
  private readonly measured = new Map<string, Measured>();
  private readonly measuring = new Map<string, Promise<void>>();
  /** Tenant → the quota its store was last limited to by this process, or why that failed. */
  private readonly limits = new Map<string, { quotaBytes: number } | { error: string }>();
  private changes = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly log: Logger,
    private readonly options: StorageUseOptions,
    private readonly clock: () => Date = () => new Date()
  ) {}

  /** Changes with every figure or limit kept here: the tenant list's cache key (tenant-views.ts). */
  get version(): number {
    return this.changes;
  }

  /** What is known, without measuring. */
  cached(slug: string, quotaBytes: number): StorageView {
    const m = this.measured.get(slug);
    const limit = this.limits.get(slug);
    const error = [m?.error, limit && 'error' in limit ? limit.error : undefined].filter(Boolean).join('; ');
    return {
      quotaBytes,
      ...(m?.usedBytes !== undefined ? { usedBytes: m.usedBytes } : {}),
      ...(m?.checkedAt ? { checkedAt: m.checkedAt.toISOString() } : {}),
      ...(error ? { error } : {})
    };
  }

  /** Measures first when the figure is missing or stale and the storage container runs. */
  async read(slug: string, storage: Storage, running: boolean): Promise<StorageView> {
    const triedAt = this.measured.get(slug)?.triedAt;
    const stale = !triedAt || this.clock().getTime() - triedAt.getTime() >= this.options.maxAgeMs;
    if (running && stale) await this.measure(slug, storage);
    return this.cached(slug, storage.quotaBytes);
  }

  /** Measures now (one at a time per tenant: callers meanwhile share the same measure). */
  measure(slug: string, storage: Storage): Promise<void> {
    let pending = this.measuring.get(slug);
    if (!pending) {
      pending = this.measureNow(slug, storage).finally(() => this.measuring.delete(slug));
      this.measuring.set(slug, pending);
    }
    return pending;
  }

  /** Sets the store's own limit; throws STORAGE_CHECK_FAILED (and remembers why) when it cannot. */
  async limit(slug: string, storage: Storage): Promise<void> {
    if (!storage.limit) return;
    try {
      await this.run(storage.container, storage.limit);
      this.limits.set(slug, { quotaBytes: storage.quotaBytes });
      this.changes++;
    } catch (err) {
      const error = `the store's own limit is not set: ${(err as Error).message}`;
      this.limits.set(slug, { error });
      this.changes++;
      throw new BerthError('STORAGE_CHECK_FAILED', error, { tenant: slug });
    }
  }

  forget(slug: string): void {
    this.measured.delete(slug);
    this.limits.delete(slug);
    this.changes++;
  }

  private async measureNow(slug: string, storage: Storage): Promise<void> {
    const previous = this.measured.get(slug);
    const limit = this.limits.get(slug);
    if (!limit || !('quotaBytes' in limit) || limit.quotaBytes !== storage.quotaBytes) {
      await this.limit(slug, storage).catch((err: Error) => this.log.warn({ tenant: slug, err: err.message }, 'storage limit not set'));
    }
    try {
      const output = await this.run(storage.container, storage.usage);
      if (!/^\d{1,18}$/.test(output)) throw new Error(`expected a number of bytes, got "${output.slice(0, 100)}"`);
      const now = this.clock();
      this.measured.set(slug, { usedBytes: Number(output), checkedAt: now, triedAt: now });
      this.changes++;
    } catch (err) {
      const error = `storage use not measured: ${(err as Error).message}`;
      this.log.warn({ tenant: slug, err: error }, 'storage use not measured');
      // The last good figure stays, with when it was taken; the error says it is not current.
      this.measured.set(slug, { usedBytes: previous?.usedBytes, checkedAt: previous?.checkedAt, triedAt: this.clock(), error });
      this.changes++;
    }
  }

  private async run(container: string, argv: string[]): Promise<string> {
    const { exitCode, output } = await this.runtime.exec(container, argv, this.options.timeoutMs);
    const text = output.trim();
    if (exitCode !== 0) throw new Error(`${argv[0]} ${argv[1] ?? ''} exited ${exitCode}: ${text.slice(0, 300)}`);
    return text;
  }
}
