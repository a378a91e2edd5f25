// How the console words backups (pure; shared by the dashboard's Backups card,
// a team's Backups tab and its timeline): reasons, pauses, the steps of backup
// and restore operations, backup events, and which teams the dashboard points out.
import t from 'tap';
import type { BackupOverview } from '../../orchestrator/src/contract/index.js';
import { backupEventLine, backupProblems, backupStepLabel, msLine, reasonLabel, scheduleLine, touchesBackups } from '../src/lib/backups.js';
import { describe } from '../src/lib/format.js';
import { stepLabel } from '../src/lib/sleep.js';
import { advance, checkQuiet, QUIET_MS, startProgress } from '../src/lib/operation-progress.js';

t.test('reasons, pauses and schedules in words', async (t) => {
  t.equal(reasonLabel('manual'), 'on demand');
  t.equal(reasonLabel('pre-restore'), 'before a restore (the way back)');
  t.equal(reasonLabel('something-new'), 'something-new', 'a reason the console does not know yet reads as the API names it');
  t.equal(msLine(340), '340 ms');
  t.equal(msLine(2440), '2.4 s');
  t.equal(msLine(180_000), '3 min');
  t.equal(msLine(undefined), '—');
  t.equal(scheduleLine('24h'), 'every 24 h');
  t.equal(scheduleLine('30m'), 'every 30 min');
  t.equal(scheduleLine('never'), 'no schedule');
  t.equal(scheduleLine(undefined), 'no schedule');
});

t.test('the steps of a backup and a restore in words, the rest as the API names them', async (t) => {
  t.match(stepLabel('backup', 'freezing'), /freezing its database and storage/);
  t.equal(stepLabel('backup', 'db-data:reading'), 'reading db-data (sealed as it streams)');
  t.match(stepLabel('restore', 'safety-backup'), /pre-restore backup .*\(the way back\)/);
  t.equal(stepLabel('restore', 'storage-data:restoring'), 'restoring storage-data from the backup');
  t.equal(stepLabel('create', 'db-data:restoring'), 'restoring db-data from the backup', 'a copy into a new team is a create that restores');
  t.equal(stepLabel('restore', 'app:healthy'), 'app:healthy', 'bring-up steps as they are');
  t.equal(backupStepLabel('start', 'route'), undefined);
  t.equal(stepLabel('wake', 'route'), 'route back to its app', 'sleep words unchanged');
});

t.test('backup events in the timeline', async (t) => {
  t.equal(describe({ type: 'backup.completed', data: { backup: '20260101T000000Z-abcdef', reason: 'manual', pauseMs: 420 } }),
    'backup 20260101T000000Z-abcdef complete (on demand), froze the team 420 ms');
  t.equal(describe({ type: 'backup.completed', data: { backup: 'b0', reason: 'scheduled', pauseMs: 0 } }), 'backup b0 complete (scheduled), without freezing the team', 'a stopped team is not frozen');
  t.equal(describe({ type: 'backup.failed', data: { backup: 'b1', reason: 'scheduled', code: 'BACKUP_FAILED', message: 'disk full' } }),
    'backup b1 failed (scheduled): BACKUP_FAILED — disk full');
  t.equal(describe({ type: 'backup.restored', data: { backup: 'b1', from: 'acme' } }), 'restored from backup b1 of acme');
  t.equal(describe({ type: 'backup.pruned', data: { backups: ['b1', 'b2'] } }), "old backups pruned by the plan's retention: b1, b2");
  t.equal(backupEventLine('backup.new_kind', {}), 'backup.new_kind');
  t.ok(touchesBackups({ type: 'backup.failed' }));
  t.ok(touchesBackups({ type: 'tenant.deleted' }));
  t.notOk(touchesBackups({ type: 'tenant.stats' }));
});

t.test('the dashboard points out teams whose last backup failed or that are overdue, and counts the rest', async (t) => {
  const o: BackupOverview = {
    teams: [
      { tenant: 'acme', exists: true, count: 3, overdue: false, every: '24h', lastSuccessAt: '2026-01-01T00:00:00Z' },
      { tenant: 'bolt', exists: true, count: 1, overdue: false, every: '24h', lastFailure: { at: '2026-01-02T00:00:00Z', code: 'BACKUP_FAILED', message: 'disk full' } },
      { tenant: 'cusp', exists: true, count: 0, overdue: true, every: '24h' },
      { tenant: 'gone', exists: false, count: 2, overdue: false }
    ],
    failed: 1,
    overdue: 1
  };
  const s = backupProblems(o);
  t.same(s.problems.map((p) => p.tenant), ['bolt', 'cusp']);
  t.equal(s.teams, 3, 'a deleted team with kept backups is not one of the teams');
  t.equal(s.fine, 1);
  t.same(backupProblems({ teams: [o.teams[0]!], failed: 0, overdue: 0 }), { problems: [], fine: 1, teams: 1 });
});

t.test('an operation followed: steps, then how it ended; quiet after QUIET_MS without events', async (t) => {
  const p = startProgress('op1', 'backup', 0);
  const ev = (type: string, data: Record<string, unknown>, operation = 'op1') => ({ seq: 1, at: '', type, tenant: 'acme', operation, data });
  t.notOk(advance(p, ev('operation.step', { step: 'freezing' }, 'other'), 'acme'), 'another operation is left alone');
  t.notOk(advance(p, ev('operation.step', { step: 'freezing' }), 'acme', 10));
  t.same(p.steps, ['freezing its database and storage for a consistent copy']);
  checkQuiet(p, 10 + QUIET_MS + 1);
  t.equal(p.outcome, 'quiet');
  t.ok(advance(p, ev('operation.succeeded', { phase: 'running', seconds: 3 }), 'acme'), 'the end, after a quiet spell');
  t.equal(p.outcome, 'ok');
  t.equal(p.message, 'Backup finished in 3 s: the team is running.');
  t.same(p.end, { phase: 'running', seconds: 3 });
  t.notOk(advance(p, ev('operation.failed', { code: 'X' }), 'acme'), 'nothing after its end');
});
