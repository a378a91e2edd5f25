// Backups as the product offers them: take one (an operation on the team, so
// nothing else runs on it meanwhile), list, delete, preview and run a restore,
// read one back for a download. The catalogue (backups.repository.ts) says
// what is complete; the target holds the files; the operation owner
// (tenants/operations.ts) holds the team's lock and its phase throughout.
//
// A restore into the same team first reads the whole backup through its
// checks and takes a pre-restore backup of the team (the way back); only then
// are the team's containers and volumes replaced. A process killed after that
// point runs the restore again whole when it restarts (the backup was checked),
// so the team ends as it was or fully restored, never half.
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Metrics } from '../api/metrics.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { names } from '../names.js';
import { LABEL } from '../runtime/labels.js';
import type { ContainerRuntime, TreeDigest } from '../runtime/types.js';
import { downStack } from '../stacks/stack-runner.js';
import { backupPolicy } from '../stacks/plan-backup.js';
import type { StackSpec } from '../stacks/render.js';
import type { OperationEnd, Operations, Resumer } from '../tenants/operations.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { Step, TenantRouter, TenantSteps } from '../tenants/tenant-steps.js';
import type { Operation, Phase, TenantDoc } from '../tenants/tenant.types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { newBackupId, type BackupMaker, type BackupManifest } from './backup-maker.js';
import { readManifest, readVolume, verifyBackup } from './backup-reader.js';
import type { BackupTarget } from './backup-target.js';
import { byTenant, type BackupRecord, type BackupsRepository } from './backups.repository.js';
import type { BackupOverview, BackupReason, BackupView, RestorePreview } from './backups.schema.js';
import { retained } from './retention.js';
import { renameEntries, slugRename } from './tar-rename.js';

export interface BackupServiceDeps {
  repo: BackupsRepository;
  tenants: TenantsRepository;
  commands: TenantsService;
  operations: Operations;
  stacks: TenantStacks;
  steps: TenantSteps;
  router: TenantRouter;
  runtime: ContainerRuntime;
  /** The app's image at a version (a restore brings the backup's version back: it must be on the host). */
  appImage: (version: string) => string;
  maker: BackupMaker;
  target: BackupTarget;
  /** The backup key (SecretBox.keyFor('backup')). */
  key: Buffer;
  events: EventBus;
  metrics: Metrics;
  log: Logger;
  platformId: string;
  instanceId: string;
  clock: () => Date;
}

/** Phases a team can be backed up in: its volumes are there and nothing else holds it. */
const BACKUPABLE: readonly Phase[] = ['running', 'degraded', 'frozen', 'sleeping', 'stopped', 'failed'];
/** Phases a team's data can be replaced in. */
const RESTORABLE: readonly Phase[] = ['running', 'degraded', 'frozen', 'sleeping', 'stopped', 'failed'];
const AWAKE: readonly Phase[] = ['running', 'degraded'];

export function viewOf(r: BackupRecord): BackupView {
  return {
    id: r.id, tenant: r.tenant, state: r.state, reason: r.reason, createdAt: r.createdAt.toISOString(), target: r.target, appVersion: r.appVersion, plan: r.plan,
    ...(r.endedAt ? { endedAt: r.endedAt.toISOString() } : {}),
    ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
    ...(r.dataBytes !== undefined ? { dataBytes: r.dataBytes } : {}),
    ...(r.pauseMs !== undefined ? { pauseMs: r.pauseMs } : {}),
    ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
    ...(r.volumes ? { volumes: r.volumes } : {}),
    ...(r.operation ? { operation: r.operation } : {}),
    ...(r.error ? { error: r.error } : {})
  };
}

export class BackupService {
  private readonly lastSuccess = new Map<string, number>();
  /** Teams whose restore got past its checks and its way back: from there a failure leaves them failed, not as they were. */
  private readonly touched = new Set<string>();

  constructor(private readonly d: BackupServiceDeps) {
    d.metrics.gauge('berth_backup_last_success_timestamp_seconds', 'When each team\'s last complete backup was taken', async () =>
      [...this.lastSuccess].map(([tenant, at]): [Record<string, string>, number] => [{ tenant }, at / 1000]));
  }

  /** Reads the last success of every team for the gauge (at start). */
  async init(): Promise<void> {
    await this.d.repo.init();
    for (const r of await this.d.repo.list()) {
      if (r.state === 'complete' && !this.lastSuccess.has(r.tenant)) this.lastSuccess.set(r.tenant, r.createdAt.getTime());
    }
  }

  // ---- taking one ----

  /** Starts a backup of the team under a 'backup' operation (409 while another operation holds it). */
  async create(slug: string, reason: BackupReason): Promise<{ backup: BackupView; operation: { id: string }; done: Promise<OperationEnd> }> {
    const doc = await this.d.tenants.mustGet(slug);
    const named = newBackupId(this.d.clock());
    const record = this.newRecord(doc, named, reason);
    await this.d.repo.insert(record);
    let started;
    try {
      started = await this.d.operations.run('backup', slug, async (locked, step, op) => {
        await this.d.repo.end(record._id, { operation: op.id }).catch(() => {});
        await this.take(locked, record, step);
        return locked.phase;
      }, { allowed: BACKUPABLE, extra: { backup: { id: named.id } }, onFailure: async () => (await this.d.tenants.mustGet(slug)).phase });
    } catch (err) {
      await this.d.repo.remove(record._id);
      throw err;
    }
    record.operation = started.operation.id;
    const done = started.done.then(async (end) => {
      if (end.type === 'operation.failed') await this.failed(record, end.code ?? 'BACKUP_FAILED', end.message ?? 'the backup failed');
      return end;
    });
    return { backup: viewOf(record), operation: started.operation, done };
  }

  private newRecord(doc: TenantDoc, named: { id: string; createdAt: Date }, reason: BackupReason): BackupRecord {
    return {
      _id: `${doc._id}/${named.id}`, id: named.id, tenant: doc._id, state: 'running', reason, createdAt: named.createdAt,
      target: this.d.target.describe, appVersion: doc.appVersion, plan: doc.plan, template: doc.template, owner: this.d.instanceId
    };
  }

  /** The backup itself, inside an operation that holds the team; marks the record complete. */
  private async take(doc: TenantDoc, record: BackupRecord, step: Step): Promise<BackupManifest> {
    const t0 = performance.now();
    const spec = this.d.stacks.specFor(doc);
    const m = await this.d.maker.backup(spec, this.d.target, await this.liveState(spec), { id: record.id, createdAt: record.createdAt }, step);
    const volumes = m.volumes.map((v) => ({ volume: v.volume, entries: v.entries, bytes: v.bytes }));
    const durationMs = Math.round(performance.now() - t0);
    const set = {
      state: 'complete' as const, endedAt: this.d.clock(), bytes: m.volumes.reduce((s, v) => s + v.sealedBytes, 0), dataBytes: volumes.reduce((s, v) => s + v.bytes, 0),
      pauseMs: m.pauseMs, durationMs, volumes
    };
    if (!(await this.d.repo.end(record._id, set))) throw new BerthError('BACKUP_FAILED', `backup ${record._id} was marked failed while it ran`);
    Object.assign(record, set);
    this.lastSuccess.set(record.tenant, Math.max(this.lastSuccess.get(record.tenant) ?? 0, record.createdAt.getTime()));
    this.d.metrics.inc('berth_backups_total', 'Backups taken, by reason and result', { reason: record.reason, result: 'ok' });
    this.d.metrics.observe('berth_backup_pause_seconds', 'How long a backup froze a team\'s database and storage', {}, m.pauseMs / 1000);
    await this.d.events.publish({ type: 'backup.completed', tenant: record.tenant, data: { backup: record.id, reason: record.reason, bytes: set.bytes, pauseMs: m.pauseMs, durationMs } });
    await this.prune(record.tenant).catch((err: Error) => this.d.log.warn({ tenant: record.tenant, err: err.message }, 'old backups not pruned'));
    return m;
  }

  /**
   * Whether the team's data services run (to be frozen for the copy) or are
   * paused already, as the engine says: a restore's way-back backup is taken
   * while the phase reads "restoring", whatever the containers do.
   */
  private async liveState(spec: StackSpec): Promise<{ running: boolean; frozen: boolean }> {
    const data = spec.services.filter((s) => s.name !== spec.route.service);
    const states = await Promise.all(data.map((s) => this.d.runtime.inspectContainer(s.container.name).then((c) => c?.state)));
    return { running: states.some((x) => x === 'running' || x === 'paused'), frozen: states.length > 0 && states.every((x) => x === 'paused') };
  }

  /** A backup that did not finish: marked failed, its files removed, an event operators see. */
  private async failed(record: BackupRecord, code: string, message: string): Promise<void> {
    const marked = await this.d.repo.end(record._id, { state: 'failed', endedAt: this.d.clock(), error: { code, message } });
    if (!marked) return;
    await this.removeFiles(record).catch((err: Error) => this.d.log.warn({ backup: record._id, err: err.message }, 'files of a failed backup not removed'));
    this.d.metrics.inc('berth_backups_total', 'Backups taken, by reason and result', { reason: record.reason, result: 'failed' });
    await this.d.events.publish({ type: 'backup.failed', tenant: record.tenant, data: { backup: record.id, reason: record.reason, code, message } });
  }

  private async removeFiles(record: BackupRecord): Promise<void> {
    // The manifest first: from that moment it is no longer a backup, whatever else is left.
    await this.d.target.remove(`${record.tenant}/${record.id}/manifest.json`);
    await this.d.target.removeAll(`${record.tenant}/${record.id}/`);
  }

  /**
   * After a restart: a backup whose process died is failed (its files go),
   * never complete. The team's lock and anything it froze are the resumed
   * operation's (resumeBackup); this is for the records.
   */
  async recover(): Promise<number> {
    let n = 0;
    for (const r of await this.d.repo.running()) {
      if (r.owner === this.d.instanceId) continue;
      await this.failed(r, 'BACKUP_INTERRUPTED', 'the orchestrator stopped while this backup was being taken; it is not complete and its files were removed');
      n++;
    }
    return n;
  }

  /** An interrupted backup operation: thaw what it froze, end it in the phase the team had. */
  readonly resumeBackup: Resumer = (doc, op) => ({
    work: async (step) => {
      await step('thawing');
      if (AWAKE.includes(doc.phase)) {
        const spec = this.d.stacks.specFor(doc);
        for (const s of spec.services) await this.d.runtime.unpauseContainer(s.container.name).catch(() => {});
      }
      const record = op.backup ? await this.d.repo.get(doc._id, op.backup.id) : null;
      if (record?.state === 'running') await this.failed(record, 'BACKUP_INTERRUPTED', 'the orchestrator stopped while this backup was being taken; it is not complete and its files were removed');
      return doc.phase;
    },
    onFailure: async () => doc.phase
  });

  // ---- reading ----

  async list(slug: string): Promise<BackupView[]> {
    return (await this.d.repo.list(slug)).map(viewOf);
  }

  async get(slug: string, id: string): Promise<BackupView> {
    return viewOf(await this.d.repo.mustGet(slug, id));
  }

  /** Every team with backups or a schedule: last success, last failure, overdue (the dashboard). */
  async overview(): Promise<BackupOverview> {
    const [records, docs] = await Promise.all([this.d.repo.list(), this.d.tenants.list()]);
    const now = this.d.clock().getTime();
    const byTeam = byTenant(records);
    const teams: BackupOverview['teams'] = [];
    const live = new Map(docs.map((d) => [d._id, d]));
    for (const slug of [...new Set([...live.keys(), ...byTeam.keys()])].sort()) {
      const doc = live.get(slug);
      const mine = byTeam.get(slug) ?? [];
      const last = mine.find((r) => r.state === 'complete');
      const lastEnded = mine.find((r) => r.state !== 'running');
      const policy = doc ? this.policyOf(doc) : undefined;
      // An hour of grace over the schedule: a busy night is not an alarm.
      const due = policy?.everyMs != null ? policy.everyMs + 3_600_000 : undefined;
      const since = last?.createdAt.getTime() ?? doc?.createdAt.getTime() ?? now;
      const overdue = !!doc && due !== undefined && now - since > due;
      teams.push({
        tenant: slug, exists: !!doc, count: mine.filter((r) => r.state === 'complete').length, overdue,
        ...(policy ? { every: policy.every } : {}),
        ...(last ? { lastSuccessAt: last.createdAt.toISOString() } : {}),
        ...(lastEnded?.state === 'failed' && lastEnded.error ? { lastFailure: { at: (lastEnded.endedAt ?? lastEnded.createdAt).toISOString(), ...lastEnded.error } } : {})
      });
    }
    return { teams, failed: teams.filter((t) => t.lastFailure).length, overdue: teams.filter((t) => t.overdue).length };
  }

  policyOf(doc: TenantDoc) {
    return backupPolicy(this.d.stacks.templateOf(doc), doc.plan);
  }

  private async complete(slug: string, id: string): Promise<{ record: BackupRecord; manifest: BackupManifest }> {
    const record = await this.d.repo.mustGet(slug, id);
    if (record.state !== 'complete') throw new BerthError('BACKUP_INCOMPLETE', `backup ${id} of ${slug} is ${record.state}: only a complete backup can be restored or downloaded`);
    return { record, manifest: await readManifest(this.d.target, slug, id) };
  }

  /**
   * The backup as one tar: its manifest and each volume's files (checked as
   * they stream: a damaged backup ends the download with an error rather
   * than handing out damaged files).
   */
  async download(slug: string, id: string): Promise<Readable> {
    const { manifest } = await this.complete(slug, id);
    const out = new PassThrough();
    void (async () => {
      const pack = tar.pack();
      pack.pipe(out);
      pack.entry({ name: `${slug}-${id}/manifest.json`, mode: 0o600 }, JSON.stringify(manifest, null, 2));
      for (const v of manifest.volumes) {
        const entry = pack.entry({ name: `${slug}-${id}/${v.volume}.tar`, size: v.tarBytes, mode: 0o600 });
        await readVolume(this.d.target, manifest, v.volume, this.d.key, (plain) => pipeline(plain, entry));
      }
      pack.finalize();
    })().catch((err: Error) => out.destroy(err));
    return out;
  }

  // ---- removing ----

  async delete(slug: string, id: string): Promise<void> {
    const record = await this.d.repo.mustGet(slug, id);
    if (record.state === 'running') throw new BerthError('BACKUP_INCOMPLETE', `backup ${id} of ${slug} is being taken; delete it once it ends`);
    await this.removeFiles(record);
    await this.d.repo.remove(record._id);
    await this.d.events.publish({ type: 'backup.deleted', tenant: slug, data: { backup: id } });
  }

  /** Retention (retention.ts): what the team's plan no longer keeps is deleted, files then record. */
  async prune(slug: string): Promise<string[]> {
    const doc = await this.d.tenants.get(slug);
    if (!doc) return [];
    const records = await this.d.repo.list(slug);
    const keep = retained(records, this.policyOf(doc).keep);
    const gone: string[] = [];
    for (const r of records) {
      if (keep.has(r._id) || r.state === 'running') continue;
      await this.removeFiles(r);
      await this.d.repo.remove(r._id);
      gone.push(r.id);
    }
    if (gone.length > 0) await this.d.events.publish({ type: 'backup.pruned', tenant: slug, data: { backups: gone } });
    return gone;
  }

  // ---- restoring ----

  async preview(slug: string, id: string, into?: string): Promise<RestorePreview> {
    const { record, manifest } = await this.complete(slug, id);
    const to = into ?? slug;
    const doc = await this.d.tenants.get(to);
    if (into && into !== slug && doc) throw new BerthError('TENANT_EXISTS', `team "${into}" exists: a clone goes into a new team; choose a free slug, or restore into ${slug} itself`, { field: 'into' });
    const changes: string[] = [];
    const sizes = `${manifest.volumes.map((v) => `${v.volume}: ${v.entries} files, ${v.bytes} bytes`).join('; ')}`;
    let dataBytes: number | undefined;
    if (doc) {
      const mine = { [LABEL.platform]: this.d.platformId, [LABEL.tenant]: to };
      const have = await this.d.runtime.volumeSizes(mine);
      dataBytes = [...have.values()].reduce((s, b) => s + b, 0);
      changes.push(`take a backup of ${to} as it is now (pre-restore), the way back`);
      changes.push(`stop ${to} (${doc.phase} now); visitors see "being restored"`);
      changes.push(`replace its database and files with the backup's (${sizes})`);
      if (doc.appVersion !== manifest.appVersion) changes.push(`run app version ${manifest.appVersion} (the backup's; ${to} runs ${doc.appVersion} now)`);
      changes.push(`start ${to} and wait until every service passes its checks`);
    } else {
      changes.push(`make team ${to} (plan ${record.plan}, app version ${manifest.appVersion})${to === slug ? ', the deleted team again' : `, a clone of ${slug}`}`);
      changes.push(`fill its database and files from the backup (${sizes})${to === slug ? '' : `, renamed from ${slug} to ${to}`}`);
      changes.push(`start ${to} and wait until every service passes its checks`);
    }
    return {
      backup: viewOf(record), into: to, newTeam: !doc, changes,
      replaces: doc ? { exists: true, phase: doc.phase, appVersion: doc.appVersion, ...(dataBytes !== undefined ? { dataBytes } : {}) } : { exists: false },
      ...(doc ? { lostSince: record.createdAt.toISOString() } : {})
    };
  }

  /**
   * Restores backup `id` of `slug`: over that team (confirm must name it), or
   * into a new team `into` (a clone), or the deleted team made again.
   */
  async restore(slug: string, id: string, options: { into?: string; confirm?: string }): Promise<{ tenant: string; operation: { id: string }; done: Promise<OperationEnd> }> {
    const { manifest } = await this.complete(slug, id);
    await this.imageFor(manifest);
    const to = options.into ?? slug;
    const existing = await this.d.tenants.get(to);
    if (existing && to !== slug) throw new BerthError('TENANT_EXISTS', `team "${to}" exists: a clone goes into a new team; choose a free slug`, { field: 'into' });
    if (!existing) {
      const source = await this.d.tenants.get(slug);
      const created = await this.d.commands.create(
        { slug: to, template: manifest.template, plan: manifest.plan, displayName: source && to !== slug ? `${source.displayName} (restored)` : to },
        { from: slug, backup: id, appVersion: manifest.appVersion, prepare: (doc, step) => this.fill(doc, manifest, step) }
      );
      const done = this.d.operations.ended(created.operation.id);
      void done.then((end) => this.announceRestore(to, slug, id, end));
      return { tenant: to, operation: created.operation, done };
    }
    if (options.confirm !== to) {
      throw new BerthError('CONFIRMATION_REQUIRED', `restoring ${slug} from ${id} replaces its data (a pre-restore backup is taken first); confirm with confirm=${to}`, { field: 'confirm' });
    }
    const started = await this.d.operations.run('restore', to, (doc, step, op) => this.restoreOver(doc, manifest, step, op, true), {
      allowed: RESTORABLE,
      during: { phase: 'restoring', from: existing.phase },
      set: { desired: 'running' },
      extra: { restore: { from: slug, backup: id } },
      why: { reason: 'restore', backup: id },
      // Failed before the team was touched: as it was. After: failed, and a start or another restore goes on.
      onFailure: async () => {
        if (!this.touched.has(to)) return existing.phase;
        await this.d.router.setRoute(to, { kind: 'down', state: 'failed' }).catch(() => {});
        return 'failed';
      }
    });
    const done = started.done.then(async (end) => {
      this.touched.delete(to);
      await this.announceRestore(to, slug, id, end);
      return end;
    });
    return { tenant: to, operation: started.operation, done };
  }

  private async announceRestore(to: string, from: string, id: string, end: OperationEnd): Promise<void> {
    const ok = end.type === 'operation.succeeded';
    this.d.metrics.inc('berth_restores_total', 'Restores, by result', { result: ok ? 'ok' : 'failed' });
    await this.d.events.publish({ type: ok ? 'backup.restored' : 'backup.restore_failed', tenant: to, data: { from, backup: id, ...(ok ? {} : { code: end.code, message: end.message }) } });
  }

  private async imageFor(m: BackupManifest): Promise<void> {
    const image = this.d.appImage(m.appVersion);
    if (!(await this.d.runtime.imageExists(image))) {
      throw new BerthError('VERSION_UNKNOWN', `the backup was taken at app version ${m.appVersion}, whose image ${image} is not on this host; build it with scripts/build-images --only app --app-version ${m.appVersion}`, { version: m.appVersion });
    }
  }

  /** Over an existing team: checked, a way back taken, then containers and volumes replaced and the team brought up at the backup's version. */
  private async restoreOver(doc: TenantDoc, m: BackupManifest, step: Step, op: Operation, fresh: boolean): Promise<Phase> {
    await step('verify');
    await verifyBackup(this.d.target, m, this.d.key);
    if (fresh) {
      await step('safety-backup');
      const hasData = (await this.d.runtime.listVolumes({ [LABEL.platform]: this.d.platformId, [LABEL.tenant]: doc._id })).length > 0;
      if (hasData) {
        const named = newBackupId(this.d.clock());
        const safety = this.newRecord(doc, named, 'pre-restore');
        safety.operation = op.id;
        await this.d.repo.insert(safety);
        // Taken as the team is (frozen briefly if awake): a failure here leaves it serving, untouched.
        try {
          await this.take(doc, safety, async () => {});
        } catch (err) {
          const e = err instanceof BerthError ? err : new BerthError('BACKUP_FAILED', (err as Error).message);
          await this.failed(safety, e.code, e.message);
          throw new BerthError('RESTORE_FAILED', `the pre-restore backup of ${doc._id} failed (${e.message}); nothing was replaced, the team is as it was`);
        }
      }
    }
    await step('replace');
    this.touched.add(doc._id);
    await this.d.router.setRoute(doc._id, { kind: 'down', state: 'restoring' });
    const restored = await this.d.tenants.update(doc._id, { $set: { appVersion: m.appVersion } });
    await this.fill(restored ?? doc, m, step, { replace: true });
    return this.d.steps.bringUp({ ...(restored ?? doc), appVersion: m.appVersion }, step);
  }

  /**
   * Puts the backup's files into the team's volumes: each volume made anew
   * (its containers removed first when `replace`) and unpacked, renamed when
   * the backup is another team's (a clone), and compared with the manifest.
   */
  private async fill(doc: TenantDoc, m: BackupManifest, step: Step, options: { replace?: boolean } = {}): Promise<void> {
    const spec: StackSpec = this.d.stacks.specFor({ ...doc, appVersion: m.appVersion });
    const labels = { [LABEL.managed]: 'true', [LABEL.platform]: this.d.platformId, [LABEL.tenant]: doc._id };
    if (options.replace) {
      await step('containers');
      await downStack(this.d.runtime, doc._id, { deleteData: false, platform: this.d.platformId });
    }
    const clone = m.tenant !== doc._id;
    for (const v of spec.legacy.volumes) {
      if (!m.volumes.some((x) => x.volume === v.volume)) throw new BerthError('BACKUP_CORRUPT', `backup ${m.tenant}/${m.id} has no volume ${v.volume}, which the team's template has`);
      await step(`${v.volume}:restoring`);
      await this.d.runtime.removeVolume(v.to);
      const volumeLabels = spec.volumes.find((x) => x.name === v.to)?.labels ?? labels;
      await this.d.runtime.ensureVolume({ name: v.to, labels: volumeLabels });
      const top = v.path.split('/').filter(Boolean).pop()!;
      // A new team has new storage keys: MinIO's own config (sealed with the old ones) is left out and made again.
      const rename = clone || !options.replace ? slugRename(top, m.tenant, doc._id) : undefined;
      let imported: TreeDigest | undefined;
      const read = await readVolume(this.d.target, m, v.volume, this.d.key, async (tar) => {
        const archive = rename ? renameEntries(tar, rename) : tar;
        imported = await this.d.runtime.importVolume({ volume: v.to, image: v.image, path: v.path, helper: names.restoreHelper(doc._id, v.volume), labels: volumeLabels }, archive);
      });
      // What the volume holds now, read back, is what the backup held, entry for entry (a clone's differs by its renames).
      if (!rename && (imported?.sha256 !== read.sha256 || imported.entries !== read.entries)) {
        throw new BerthError('RESTORE_FAILED', `volume ${v.volume} read back differs from the backup (${imported?.entries} entries; the backup has ${read.entries})`);
      }
    }
  }

  /** A restore whose process died: run again whole from the checked backup, so the team ends fully restored. */
  readonly resumeRestore: Resumer = (doc, op) => ({
    work: async (step) => {
      const r = op.restore!;
      const m = await readManifest(this.d.target, r.from, r.backup);
      if (op.kind === 'create') {
        await this.fill(doc, m, step, { replace: true });
        return this.d.steps.bringUp({ ...doc, appVersion: m.appVersion }, step);
      }
      // Past its checks and its way back already if it got to "replace": do not take another.
      const fresh = ['queued', 'verify', 'safety-backup'].includes(op.step);
      if (!fresh) this.touched.add(doc._id);
      return this.restoreOver(doc, m, step, op, fresh);
    },
    onFailure: async () => {
      if (!this.touched.has(doc._id) && op.kind !== 'create') return doc.phase;
      this.touched.delete(doc._id);
      await this.d.router.setRoute(doc._id, { kind: 'down', state: 'failed' }).catch(() => {});
      return 'failed';
    }
  });
}
