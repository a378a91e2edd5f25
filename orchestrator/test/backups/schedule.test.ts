// Schedules, retention and a full target (issue 15 items 2 and 4):
// - retention keeps what the plan says (newest of 7 days and 4 weeks of
//   scheduled backups, every manual one, the newest pre-upgrade ones, the
//   newest complete one whatever it is, the last failed records), checked
//   on made-up histories;
// - the scheduler starts the backups that are due, the longest overdue
//   first, no more at once than BERTH_BACKUP_PARALLEL, and none that is not
//   due; a backup it takes prunes what the plan no longer keeps;
// - a target with no room (a 2 MB tmpfs the test mounts) fails the backup
//   with a clear error and a backup.failed event, the record says failed,
//   and the team keeps serving, thawed; the overview shows the failure.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BackupScheduler } from '../../src/backups/backup-scheduler.js';
import type { BackupRecord } from '../../src/backups/backups.repository.js';
import { BackupsRepository } from '../../src/backups/backups.repository.js';
import { isoWeek, retained } from '../../src/backups/retention.js';
import { silentLogger } from '../../src/log.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const run = promisify(execFile);
const DAY = 86_400_000;
const KEEP = { daily: 7, weekly: 4, preUpgrade: 3 };

const record = (id: string, daysAgo: number, reason: BackupRecord['reason'], state: BackupRecord['state'] = 'complete', now = Date.parse('2026-12-03T12:00:00Z')): BackupRecord => ({
  _id: `acme/${id}`, id, tenant: 'acme', state, reason, createdAt: new Date(now - daysAgo * DAY), target: 'dir:/x', appVersion: '1', plan: 'starter', template: 'tenant', owner: 'o'
});

t.test('retention: what the plan keeps, on made-up histories', async (t) => {
  t.equal(isoWeek(new Date('2026-12-03T00:00:00Z')), '2026-W49');
  t.equal(isoWeek(new Date('2027-01-01T00:00:00Z')), '2026-W53', 'the first days of a year can belong to the last week of the one before');
  // Two scheduled backups a day for 60 days: the newest of each of 7 days, and of 4 weeks.
  const daily = Array.from({ length: 120 }, (_, i) => record(`s${i}`, i / 2, 'scheduled'));
  const keep = retained(daily, KEEP);
  const days = new Set([...keep].map((k) => daily.find((r) => r._id === k)!.createdAt.toISOString().slice(0, 10)));
  t.equal(keep.size, days.size, 'one per day at most');
  t.ok(keep.has('acme/s0'), 'the newest');
  t.ok(keep.size >= 7 && keep.size <= 7 + 4, `${keep.size} kept: 7 days and up to 4 weeks (some weeks' newest are among the days)`);
  t.notOk(keep.has('acme/s119'), 'the oldest goes');
  const weeks = new Set([...keep].map((k) => isoWeek(daily.find((r) => r._id === k)!.createdAt)));
  t.ok(weeks.size >= 4, `${weeks.size} distinct weeks`);

  const mixed = [
    record('m-old', 300, 'manual'), record('p1', 1, 'pre-upgrade'), record('p2', 2, 'pre-upgrade'), record('p3', 3, 'pre-restore'), record('p4', 4, 'pre-upgrade'),
    ...Array.from({ length: 8 }, (_, i) => record(`f${i}`, i, 'scheduled', 'failed')), record('r', 0, 'scheduled', 'running')
  ];
  const kept = retained(mixed, KEEP);
  t.ok(kept.has('acme/m-old'), 'a manual backup stays until a person deletes it');
  t.same(['p1', 'p2', 'p3', 'p4'].filter((id) => kept.has(`acme/${id}`)), ['p1', 'p2', 'p3'], 'the newest 3 before upgrades and restores');
  t.equal([...kept].filter((k) => k.includes('/f')).length, 5, 'the last 5 failed records');
  t.ok(kept.has('acme/r'), 'a running one is never pruned');
  t.same([...retained([record('only', 900, 'pre-upgrade')], { daily: 0, weekly: 0, preUpgrade: 0 })], ['acme/only'], 'the newest complete backup stays whatever the plan says');
});

// A 2 MB tmpfs as the backup directory: a real full disk.
const full = await mkdtemp(path.join(os.tmpdir(), 'berth-full-'));
const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', full]).then(() => true, () => false);
const tp = await startTestPlatform('bksched', mounted ? { backups: { dir: full, intervalMs: 60_000, parallel: 1 } } : {});
t.teardown(async () => {
  await tp.close();
  if (mounted) await run('umount', [full]);
  await rm(full, { recursive: true, force: true });
});
const p = tp.platform;
const a = testSlug('sa');
const b = testSlug('sb');
for (const slug of [a, b]) {
  const made = await p.tenants.create({ slug });
  if ((await operationEnd(p.events, made.operation.id)).type !== 'operation.succeeded') throw new Error(`${slug} was not made`);
}
const repo = new BackupsRepository(p.db.db);
const mine = async (slug: string) => (await repo.list(slug)).filter((r) => r.tenant === slug);

t.test('a full target: the backup fails with a clear error and an event; the team serves, thawed', { skip: mounted ? false : 'mount -t tmpfs is not allowed here' }, async (t) => {
  // The disk filled to the brim first (a 2.5 MB file in 2 MB stops where the disk ends).
  await run('dd', ['if=/dev/zero', `of=${path.join(full, 'ballast')}`, 'bs=64k', 'count=40']).catch(() => undefined);
  const failed = await p.app.inject({ method: 'POST', url: `/api/v1/tenants/${b}/backups`, headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(failed.statusCode, 202, failed.body);
  const { backup, operation } = failed.json() as { backup: { id: string }; operation: { id: string } };
  const end = await operationEnd(p.events, operation.id);
  t.equal(end.type, 'operation.failed');
  t.match(end.data, { code: 'BACKUP_FAILED', message: new RegExp(`the backup of ${b} to dir:${full} failed: .*no space left on device.*the team keeps serving`, 'i') });
  const rec = await until(async () => {
    const r = await repo.get(b, backup.id);
    return r?.state === 'failed' ? r : undefined;
  }, 30_000, 'the record to say failed');
  t.match(rec.error, { code: 'BACKUP_FAILED' });
  const events = await until(async () => { const h = await p.events.history({ tenant: b }, 100); return h.some((e) => e.type === 'backup.failed') ? h : undefined; }, 10_000, 'the backup.failed event to be stored');
  t.ok(events.some((e) => e.type === 'backup.failed' && (e.data as { backup?: string }).backup === backup.id), 'a backup.failed event operators see');
  t.equal((await p.repo.get(b))?.phase, 'running', 'still running');
  t.equal((await throughNginx(tp, b, 'GET', '/healthz')).status, 200, 'and serving');
  const overview = (await p.app.inject({ method: 'GET', url: '/api/v1/backups', headers: { authorization: `Bearer ${tp.token}` } })).json() as { teams: { tenant: string; lastFailure?: { code: string } }[]; failed: number };
  t.match(overview.teams.find((x) => x.tenant === b)?.lastFailure, { code: 'BACKUP_FAILED' });
  t.ok(overview.failed >= 1);
  await rm(path.join(full, 'ballast'), { force: true });
  await p.operations.settled();
  // Its failed record and the first backup go, so the scheduler below starts from nothing.
  for (const r of [...(await mine(a)), ...(await mine(b))]) await p.backups.delete(r.tenant, r.id).catch(() => undefined);
});

t.test('the scheduler: what is due, the longest overdue first, at most BERTH_BACKUP_PARALLEL at once; nothing that is not due', async (t) => {
  const docA = (await p.repo.get(a))!;
  const docB = (await p.repo.get(b))!;
  const older = docA.createdAt < docB.createdAt ? a : b;
  const later = new Date(Date.now() + DAY + 3_600_000);
  const scheduler = new BackupScheduler({ service: p.backups, tenants: p.repo, repo, intervalMs: 60_000, parallel: 1, log: silentLogger, clock: () => later });
  t.same(await scheduler.pass(), [older], 'one at a time: the team made first is the longest overdue');
  t.same(await scheduler.pass(), [], 'the second waits while one runs');
  await until(async () => (await mine(older)).some((r) => r.state !== 'running'), 60_000, 'the first scheduled backup to end');
  await until(async () => !(await p.repo.get(older))?.operation, 30_000, 'its operation to end');
  await new Promise((r) => setTimeout(r, 100));
  const other = older === a ? b : a;
  t.same(await scheduler.pass(), [other], 'then the other');
  await until(async () => (await mine(other)).some((r) => r.state !== 'running'), 60_000, 'the second scheduled backup to end');
  await until(async () => !(await p.repo.get(other))?.operation, 30_000, 'its operation to end');
  for (const slug of [a, b]) t.match(await mine(slug), [{ reason: 'scheduled', state: 'complete' }], `${slug}: one scheduled backup, complete`);
  const now = new BackupScheduler({ service: p.backups, tenants: p.repo, repo, intervalMs: 60_000, parallel: 1, log: silentLogger, clock: () => new Date() });
  t.same(await now.pass(), [], 'backed up just now: nothing is due for a day');
  await scheduler.stop();
});

t.test('a scheduled backup prunes what the plan no longer keeps', async (t) => {
  // Thirty days of made-up scheduled backups behind the real one (no files of their own).
  const fake = Array.from({ length: 30 }, (_, i) => ({ ...record(`20261101T000000Z-${String(i).padStart(6, '0')}`, i + 1, 'scheduled', 'complete', Date.now()), _id: `${a}/20261101T000000Z-${String(i).padStart(6, '0')}`, tenant: a }));
  for (const r of fake) await repo.insert(r);
  const before = await mine(a);
  const expected = retained(before, KEEP);
  const pruned = await p.backups.prune(a);
  const after = await mine(a);
  t.equal(after.length, expected.size, `${before.length} → ${after.length} kept (${pruned.length} pruned)`);
  t.same(new Set(after.map((r) => r._id)), expected);
  t.ok(after.some((r) => !r.id.startsWith('20261101')), 'the real backup stays');
  t.ok(pruned.length >= 30 - 7 - 4, `${pruned.length} pruned`);
});
