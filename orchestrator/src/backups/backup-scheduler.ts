// Backups on each team's plan schedule (x-berth.plans.<plan>.backup.every):
// a pass every BERTH_BACKUP_INTERVAL_MS starts the backups that are due, at
// most BERTH_BACKUP_PARALLEL at a time (a thousand teams due at midnight are
// backed up one after another, not all at once). A team is due when its
// newest complete backup is older than its schedule (a new team: its age);
// one whose scheduled backup failed is tried again 15 minutes later. A team
// another operation holds is tried at the next pass.
import { BerthError } from '../errors.js';
import { Periodic } from '../periodic.js';
import type { Logger } from '../log.js';
import type { TenantDoc } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import { byTenant, type BackupRecord, type BackupsRepository } from './backups.repository.js';
import type { BackupService } from './backups.service.js';

const RETRY_AFTER_FAILURE_MS = 15 * 60_000;
const SCHEDULABLE = new Set(['running', 'degraded', 'frozen', 'sleeping', 'stopped']);

export interface BackupSchedulerDeps {
  service: BackupService;
  tenants: TenantsRepository;
  repo: BackupsRepository;
  intervalMs: number;
  parallel: number;
  log: Logger;
  clock: () => Date;
}

export class BackupScheduler {
  private readonly loop: Periodic<string[]>;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly d: BackupSchedulerDeps) {
    this.loop = new Periodic(() => this.run(), d.intervalMs, d.log, 'backup');
  }

  start(): void {
    this.loop.start(() => this.pass());
  }

  /** Stops the loop, and waits for the pass and the backups under way. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** One pass: the slugs whose backup it started. */
  pass(): Promise<string[]> {
    return this.loop.pass();
  }

  /** When the team's next scheduled backup is due (ms since epoch), or null: never; `records`: its backups, newest first. */
  dueAt(doc: TenantDoc, records: BackupRecord[]): number | null {
    const everyMs = this.d.service.policyOf(doc).everyMs;
    if (everyMs === null) return null;
    const ok = records.find((r) => r.state === 'complete');
    const failed = records.find((r) => r.state === 'failed' && r.reason === 'scheduled');
    const due = (ok?.createdAt ?? doc.createdAt).getTime() + everyMs;
    const retry = failed && (!ok || failed.createdAt > ok.createdAt) ? failed.createdAt.getTime() + RETRY_AFTER_FAILURE_MS : 0;
    return Math.max(due, retry);
  }

  private async run(): Promise<string[]> {
    const started: string[] = [];
    const now = this.d.clock().getTime();
    const due: Array<[number, TenantDoc]> = [];
    // One read of the catalogue per pass, not one per team (a thousand teams, every minute).
    const [docs, records] = await Promise.all([this.d.tenants.list(), this.d.repo.list()]);
    const byTeam = byTenant(records);
    for (const doc of docs) {
      if (!SCHEDULABLE.has(doc.phase) || doc.operation || this.inflight.has(doc._id)) continue;
      const at = this.dueAt(doc, byTeam.get(doc._id) ?? []);
      if (at !== null && at <= now) due.push([at, doc]);
    }
    // The longest overdue first.
    due.sort((a, b) => a[0] - b[0]);
    for (const [, doc] of due) {
      if (this.inflight.size >= this.d.parallel) break;
      try {
        const { done } = await this.d.service.create(doc._id, 'scheduled');
        const end = done.finally(() => this.inflight.delete(doc._id));
        this.inflight.set(doc._id, end);
        started.push(doc._id);
      } catch (err) {
        // Another operation took it meanwhile: the next pass asks again.
        if (!(err instanceof BerthError && ['OPERATION_CONFLICT', 'TENANT_NOT_FOUND'].includes(err.code))) throw err;
      }
    }
    if (started.length > 0) this.d.log.info({ started, due: due.length }, 'scheduled backups started');
    return started;
  }
}
