// How the console words backups: why one was taken, its steps and events, how
// long it froze the team, and which teams the dashboard must point out (last
// backup failed, or none within the schedule). Pure, shared by the dashboard,
// the team's Backups tab, format.ts and the tests.
import type { BackupOverview, BerthEvent, RestorePreview } from '$contract';

/** The Backups tab's restore panel: one backup, where to, and the API's preview of it or why there is none. */
export interface RestoreView {
  id: string;
  /** The new team's slug; absent: over the team itself (or the deleted team made again). */
  into?: string;
  preview?: RestorePreview;
  error?: { message: string; code?: string; field?: string };
}

const REASONS: Record<string, string> = {
  manual: 'on demand',
  scheduled: 'scheduled',
  'pre-upgrade': 'before an upgrade',
  'pre-restore': 'before a restore (the way back)'
};

export function reasonLabel(reason: string): string {
  return REASONS[reason] ?? reason;
}

/** "340 ms", "2.4 s", "3 min": how long the database and storage were frozen, or a backup took. */
export function msLine(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * The steps of backup and restore operations in words (backups.service.ts,
 * backup-maker.ts); undefined for steps these words do not cover (the start
 * steps a restore shares with every bring-up).
 */
export function backupStepLabel(kind: string, step: string): string | undefined {
  const [volume, what] = step.includes(':') ? step.split(':', 2) : [undefined, step];
  if (volume && what === 'reading') return `reading ${volume} (sealed as it streams)`;
  if (volume && what === 'restoring') return `restoring ${volume} from the backup`;
  if (kind === 'backup') {
    if (step === 'freezing') return 'freezing its database and storage for a consistent copy';
    if (step === 'uploading') return 'uploading to the backup target (the team is thawed)';
    if (step === 'manifest') return 'writing the manifest: complete from here';
    if (step === 'thawing') return 'thawing its containers';
  }
  if (kind === 'restore') {
    if (step === 'verify') return 'checking the backup, every file against its checksum';
    if (step === 'safety-backup') return 'taking a pre-restore backup of the team as it is (the way back)';
    if (step === 'replace') return 'taking the team down ("being restored" page)';
    if (step === 'containers') return 'removing its containers (volumes next)';
  }
  return undefined;
}

const str = (v: unknown, or = '?') => (typeof v === 'string' ? v : or);

/** A backup.* event in a sentence, for timelines. */
export function backupEventLine(type: string, d: Record<string, unknown>): string {
  switch (type) {
    case 'backup.completed': {
      const pause = typeof d.pauseMs === 'number' && d.pauseMs > 0 ? `froze the team ${msLine(d.pauseMs)}` : 'without freezing the team';
      return `backup ${str(d.backup)} complete (${reasonLabel(str(d.reason))}), ${pause}`;
    }
    case 'backup.failed': return `backup ${str(d.backup)} failed (${reasonLabel(str(d.reason))}): ${str(d.code)} — ${str(d.message)}`;
    case 'backup.restored': return `restored from backup ${str(d.backup)}${d.from ? ` of ${str(d.from)}` : ''}`;
    case 'backup.restore_failed': return `restore from backup ${str(d.backup)} failed: ${str(d.code)} — ${str(d.message)}`;
    case 'backup.deleted': return `backup ${str(d.backup)} deleted`;
    case 'backup.pruned': return `old backups pruned by the plan's retention: ${Array.isArray(d.backups) ? d.backups.join(', ') : '?'}`;
    default: return type;
  }
}

/** An event after which the dashboard's backups overview may read differently. */
export function touchesBackups(e: Pick<BerthEvent, 'type'>): boolean {
  return e.type.startsWith('backup.') || e.type === 'tenant.created' || e.type === 'tenant.deleted';
}

export type BackupTeam = BackupOverview['teams'][number];

/** The teams to point out (last backup failed, or overdue), and how many existing teams are fine. */
export function backupProblems(o: BackupOverview): { problems: BackupTeam[]; fine: number; teams: number } {
  const problems = o.teams.filter((t) => t.lastFailure || t.overdue);
  const existing = o.teams.filter((t) => t.exists);
  return { problems, fine: existing.filter((t) => !t.lastFailure && !t.overdue).length, teams: existing.length };
}

/** "every 24 h", "no schedule": a plan's backup schedule ("24h", "never"). */
export function scheduleLine(every: string | undefined): string {
  if (!every || every === 'never') return 'no schedule';
  const m = /^(\d+)([smhd])$/.exec(every);
  return m ? `every ${m[1]} ${({ s: 's', m: 'min', h: 'h', d: 'd' } as const)[m[2] as 's' | 'm' | 'h' | 'd']}` : `every ${every}`;
}
