// The team's storage quota (STORAGE_QUOTA_BYTES, from its plan). The app keeps
// a ledger of the bytes in its bucket: counted from a bucket listing once at
// start, then moved by this instance's own uploads and deletes. A check costs
// nothing per upload; listing the bucket for each one would cost a request
// per 1,000 objects, every time.
//
// An upload reserves its declared size (Content-Length, which Node holds the
// body to) before a byte is stored, so uploads running at once cannot pass the
// quota together. Writes by another instance (the seconds an upgrade runs the
// old and the new app side by side) are not seen here, so before refusing the
// ledger counts the bucket again: at most once per RECOUNT_MS, and only while
// nothing of this instance is in flight, so the listing and the ledger agree.
// The platform also sets MinIO's own bucket quota: the bound if this check
// were ever bypassed.
import { config } from '../config';
import { AppError } from '../errors';
import { bucketBytes } from '../storage';

export const RECOUNT_MS = 30_000;

/** 1,024-based, one decimal: 0 B, 512 B, 1.5 KB, 2.0 MB, 10.0 GB. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Without figures (no quota in the app, only the store's own): the message says less. */
export function storageFull(used: number | undefined, quota: number | undefined, size?: number): AppError {
  const use = used === undefined || quota === undefined ? '' : `: ${humanBytes(used)} of ${humanBytes(quota)} used`;
  const file = size === undefined ? '' : `; this file is ${humanBytes(size)}`;
  return new AppError('STORAGE_FULL', `your team's storage is full${use}${file}. Delete files to make room.`);
}

export interface Reservation {
  /** The object is in the bucket: its bytes now count as used. */
  stored(): void;
  /** Nothing was stored: the bytes are free again. */
  released(): void;
}

export class StorageLedger {
  /** Bytes in the bucket; undefined until the first count. */
  private used: number | undefined;
  /** Bytes of uploads in flight. */
  private reserved = 0;
  /** Uploads and deletes between their start and their ledger entry. */
  private active = 0;
  private counting: Promise<void> | undefined;
  private countedAt = Number.NEGATIVE_INFINITY;
  /** Bumped by every count: a delete that overlapped one cannot tell whether the listing saw its object. */
  private generation = 0;

  constructor(
    readonly quota: number,
    private readonly countBucket: () => Promise<number>,
    private readonly now: () => number = Date.now
  ) {}

  /** Used bytes (with uploads in flight), when counted. */
  get usedBytes(): number | undefined {
    return this.used === undefined ? undefined : this.used + this.reserved;
  }

  /** Used bytes (uploads in flight included) and the quota, counting the bucket first if it was never counted. */
  async use(): Promise<{ usedBytes: number; quotaBytes: number }> {
    await this.idle();
    if (this.used === undefined) await this.count();
    return { usedBytes: (this.used ?? 0) + this.reserved, quotaBytes: this.quota };
  }

  /** Counts the bucket (at start); uploads meanwhile wait for it. */
  count(): Promise<void> {
    this.counting ??= (async () => {
      try {
        const bytes = await this.countBucket();
        this.used = bytes;
        this.countedAt = this.now();
        this.generation++;
      } finally {
        this.counting = undefined;
      }
    })();
    return this.counting;
  }

  /** Room for `size` more bytes, held until the upload ends; else STORAGE_FULL (413) naming use and quota. */
  async reserve(size: number): Promise<Reservation> {
    for (;;) {
      await this.idle();
      if (this.used === undefined) {
        await this.count();
        continue;
      }
      if (this.used + this.reserved + size <= this.quota) break;
      const recount = this.active === 0 && this.now() - this.countedAt >= RECOUNT_MS;
      if (!recount) throw storageFull(this.used + this.reserved, this.quota, size);
      await this.count();
    }
    this.reserved += size;
    this.active++;
    let open = true;
    const end = (stored: boolean) => {
      if (!open) return;
      open = false;
      this.reserved -= size;
      this.active--;
      if (stored && this.used !== undefined) this.used += size;
    };
    return { stored: () => end(true), released: () => end(false) };
  }

  /** Runs a removal of `size` bytes; `remove` says whether the objects are gone. */
  async removing(size: number, remove: () => Promise<boolean>): Promise<void> {
    await this.idle();
    const generation = this.generation;
    this.active++;
    try {
      // Counted meanwhile: the listing may already lack these bytes, so the
      // ledger keeps them (too high, never too low) until the next count.
      if ((await remove()) && this.used !== undefined && generation === this.generation) this.used = Math.max(0, this.used - size);
    } finally {
      this.active--;
    }
  }

  private async idle(): Promise<void> {
    while (this.counting) await this.counting.catch(() => {});
  }
}

let ledger: StorageLedger | null | undefined;

/** This instance's ledger; null when the team has no quota. */
export function storageLedger(): StorageLedger | null {
  if (ledger === undefined) {
    const quota = config().storageQuotaBytes;
    ledger = quota === undefined ? null : new StorageLedger(quota, bucketBytes);
  }
  return ledger;
}
