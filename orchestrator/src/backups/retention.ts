// Which backups a team keeps (its plan's keep): every manual one (a person
// took it; a person deletes it), the newest of each of the last `daily` days
// and `weekly` ISO weeks among the scheduled ones, the newest `preUpgrade`
// taken before upgrades and restores, the newest complete backup whatever
// its kind, and the last 5 failed records (for the dashboard). Pure.
import type { BackupRecord } from './backups.repository.js';

const FAILED_KEPT = 5;

/** "2026-W49": the ISO week of a UTC date. */
export function isoWeek(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The ids (record _id) to keep; the rest may go. Running records are never the caller's to delete. */
export function retained(records: BackupRecord[], keep: { daily: number; weekly: number; preUpgrade: number }): Set<string> {
  const out = new Set<string>();
  const newest = [...records].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const complete = newest.filter((r) => r.state === 'complete');
  if (complete[0]) out.add(complete[0]._id);
  for (const r of complete) if (r.reason === 'manual') out.add(r._id);
  const bucketed = (key: (r: BackupRecord) => string, n: number) => {
    const seen = new Set<string>();
    for (const r of complete.filter((x) => x.reason === 'scheduled')) {
      const k = key(r);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      out.add(r._id);
    }
  };
  bucketed((r) => r.createdAt.toISOString().slice(0, 10), keep.daily);
  bucketed((r) => isoWeek(r.createdAt), keep.weekly);
  for (const r of complete.filter((x) => x.reason === 'pre-upgrade' || x.reason === 'pre-restore').slice(0, keep.preUpgrade)) out.add(r._id);
  for (const r of newest.filter((x) => x.state === 'failed').slice(0, FAILED_KEPT)) out.add(r._id);
  for (const r of newest) if (r.state === 'running') out.add(r._id);
  return out;
}
