// Backups in the API (a leaf the contract re-exports): one backup as listed,
// a team's list, the platform's overview for the dashboard, a restore's
// preview and request. The types come from these schemas.
import type { FromSchema } from 'json-schema-to-ts';
import { SLUG_SCHEMA_PATTERN, SLUG_RULE } from '../contract/slug.js';

export const BACKUP_STATES = ['running', 'complete', 'failed'] as const;
export type BackupState = (typeof BACKUP_STATES)[number];
/** Why it was taken: by a person, by its plan's schedule, before an upgrade of the team, or before a restore over it. */
export const BACKUP_REASONS = ['manual', 'scheduled', 'pre-upgrade', 'pre-restore'] as const;
export type BackupReason = (typeof BACKUP_REASONS)[number];

/** A backup id: its UTC time and 6 hex digits, e.g. 20261203T201500Z-a1b2c3. */
export const BACKUP_ID = '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$';

const slug = { type: 'string', minLength: 3, maxLength: 32, pattern: SLUG_SCHEMA_PATTERN, description: SLUG_RULE } as const;
const backupId = { type: 'string', minLength: 23, maxLength: 23, pattern: BACKUP_ID, description: 'a backup id, e.g. 20261203T201500Z-a1b2c3' } as const;
const failure = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } }
} as const;

export const backupSchema = {
  $id: 'Backup',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenant', 'state', 'reason', 'createdAt', 'target', 'appVersion'],
  properties: {
    id: backupId,
    tenant: slug,
    state: { type: 'string', enum: [...BACKUP_STATES], description: 'complete only once every file and the manifest are on the target' },
    reason: { type: 'string', enum: [...BACKUP_REASONS] },
    createdAt: { type: 'string', format: 'date-time' },
    endedAt: { type: 'string', format: 'date-time' },
    target: { type: 'string', description: 'where it is: dir:/path or s3:bucket/prefix' },
    appVersion: { type: 'string', description: "the team's app version when it was taken (a restore brings this version back)" },
    plan: { type: 'string' },
    bytes: { type: 'integer', description: 'sealed size on the target' },
    dataBytes: { type: 'integer', description: 'bytes of files in the volumes' },
    pauseMs: { type: 'integer', description: 'how long the database and storage were frozen while their volumes were read' },
    durationMs: { type: 'integer' },
    volumes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['volume', 'entries', 'bytes'],
        properties: { volume: { type: 'string' }, entries: { type: 'integer' }, bytes: { type: 'integer' } }
      }
    },
    operation: { type: 'string', description: 'the backup operation (its events say its steps)' },
    error: failure
  }
} as const;
export type BackupView = FromSchema<typeof backupSchema>;

export type BackupRefs = [typeof backupSchema];

export const backupListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['backups'],
  properties: { backups: { type: 'array', items: { $ref: 'Backup#' } } }
} as const;
export type BackupList = FromSchema<typeof backupListSchema, { references: BackupRefs }>;

export const slugParam = { type: 'object', required: ['slug'], properties: { slug } } as const;
export const backupParams = { type: 'object', required: ['slug', 'id'], properties: { slug, id: backupId } } as const;

export const createBackupReply = {
  type: 'object',
  additionalProperties: false,
  required: ['backup', 'operation'],
  properties: {
    backup: { $ref: 'Backup#' },
    operation: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string' } } }
  }
} as const;
export type CreateBackupReply = FromSchema<typeof createBackupReply, { references: BackupRefs }>;

export const restoreBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    into: { ...slug, description: 'a new team to make from the backup (a clone); left out: the backup\'s own team, made again if it was deleted' },
    confirm: { type: 'string', maxLength: 32, description: 'restoring over an existing team replaces its data: give its slug here' }
  }
} as const;
export type RestoreBody = FromSchema<typeof restoreBody>;

export const restoreQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { into: restoreBody.properties.into }
} as const;
export type RestoreQuery = FromSchema<typeof restoreQuery>;

export const restorePreviewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['backup', 'into', 'newTeam', 'replaces', 'changes'],
  properties: {
    backup: { $ref: 'Backup#' },
    into: slug,
    newTeam: { type: 'boolean', description: 'true: a team is made (a clone, or the deleted team again)' },
    replaces: {
      type: 'object',
      additionalProperties: false,
      required: ['exists'],
      description: 'the team the restore replaces the data of, as it is now',
      properties: {
        exists: { type: 'boolean' },
        phase: { type: 'string' },
        appVersion: { type: 'string' },
        dataBytes: { type: 'integer', description: 'bytes in its volumes now' }
      }
    },
    changes: { type: 'array', items: { type: 'string' }, description: 'what the restore will do, in words, in order' },
    lostSince: { type: 'string', format: 'date-time', description: 'changes the team made after this time are replaced' }
  }
} as const;
export type RestorePreview = FromSchema<typeof restorePreviewSchema, { references: BackupRefs }>;

export const restoreReply = {
  type: 'object',
  additionalProperties: false,
  required: ['tenant', 'operation'],
  properties: {
    tenant: slug,
    operation: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string' } } },
    safety: { type: 'string', description: 'the id of the backup taken of the team just before (pre-restore): the way back' }
  }
} as const;
export type RestoreReply = FromSchema<typeof restoreReply>;

/** One team's backups at a glance, for the dashboard and `berth backup list` without a slug. */
export const backupOverviewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['teams', 'failed', 'overdue'],
  properties: {
    teams: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['tenant', 'exists', 'count', 'overdue'],
        properties: {
          tenant: slug,
          exists: { type: 'boolean', description: 'false: the team was deleted; its backups are kept until deleted' },
          every: { type: 'string', description: "its plan's schedule, e.g. 24h, or never" },
          count: { type: 'integer', description: 'complete backups' },
          lastSuccessAt: { type: 'string', format: 'date-time' },
          lastFailure: { type: 'object', additionalProperties: false, required: ['at', 'code', 'message'], properties: { at: { type: 'string', format: 'date-time' }, code: { type: 'string' }, message: { type: 'string' } } },
          overdue: { type: 'boolean', description: 'no complete backup within its schedule and an hour' }
        }
      }
    },
    failed: { type: 'integer', description: 'teams whose last backup failed' },
    overdue: { type: 'integer' }
  }
} as const;
export type BackupOverview = FromSchema<typeof backupOverviewSchema>;

/** x-berth.plans.<plan>.backup: how often, and how many to keep (stacks/plan-backup.ts fills defaults). */
export const planBackupSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    every: { type: 'string', maxLength: 12, description: 'a backup this often, e.g. 24h or 6h, or never' },
    keep: {
      type: 'object',
      additionalProperties: false,
      properties: {
        daily: { type: 'integer', minimum: 0, maximum: 366, description: 'the newest backup of each of this many days' },
        weekly: { type: 'integer', minimum: 0, maximum: 520, description: 'the newest backup of each of this many weeks' },
        'pre-upgrade': { type: 'integer', minimum: 0, maximum: 100, description: 'the newest this many pre-upgrade (and pre-restore) backups' }
      }
    }
  }
} as const;
export type PlanBackup = FromSchema<typeof planBackupSchema>;
