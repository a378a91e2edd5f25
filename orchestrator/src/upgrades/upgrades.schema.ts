import type { FromSchema } from 'json-schema-to-ts';
import { PHASES, slug } from '../tenants/tenants.schema.js';

/**
 * running → awaiting-approval (canary done, an operator approves) → running
 * → succeeded | failed (some tenants failed, within maxFailures) | halted
 * (the canary failed, or failures passed maxFailures) | cancelled. paused
 * and resumed by an operator; tenants already upgrading finish either way.
 */
export const JOB_STATES = ['running', 'awaiting-approval', 'paused', 'succeeded', 'failed', 'halted', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TENANT_STATES = ['pending', 'upgrading', 'succeeded', 'failed', 'skipped'] as const;
export type TenantState = (typeof TENANT_STATES)[number];

export const JOB_ACTIONS = ['approve', 'pause', 'resume', 'cancel'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/** A backup of each team before its upgrade: required (no backup, no upgrade), best-effort, or skip. */
export const PRE_UPGRADE_BACKUP = ['required', 'best-effort', 'skip'] as const;
export type PreUpgradeBackup = (typeof PRE_UPGRADE_BACKUP)[number];

/** An image tag: what Docker allows in a tag, at most 64 characters. */
export const VERSION_PATTERN = '^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$';
const version = { type: 'string', minLength: 1, maxLength: 64, pattern: VERSION_PATTERN, description: 'an image tag of the tenant-app repository, e.g. 0.2.0' } as const;

/**
 * At most this many slugs in a list: 1,000 of 32 characters, quoted, are
 * under 35 KiB, well within the 64 KiB body limit with the other fields (a
 * bigger body, e.g. padded with whitespace, is 413). More tenants: use all or filter.
 */
const MAX_LISTED = 1000;
const tenantList = { type: 'array', items: slug, minItems: 1, maxItems: MAX_LISTED } as const;

const selection = {
  all: { type: 'boolean', description: 'every tenant' },
  tenants: { ...tenantList, description: 'these tenants' },
  filter: {
    type: 'object',
    additionalProperties: false,
    description: 'tenants matching every field given',
    properties: {
      phase: { type: 'string', enum: [...PHASES] },
      version,
      slugPrefix: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[a-z0-9-]+$' }
    }
  }
} as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['toVersion'],
  description: 'choose the tenants with exactly one of "all": true, "tenants": [slugs] or "filter": {phase, version, slugPrefix}',
  oneOf: [
    { required: ['all'], properties: { all: { enum: [true] } } },
    { required: ['tenants'] },
    { required: ['filter'] }
  ],
  properties: {
    toVersion: version,
    ...selection,
    canary: { type: 'integer', minimum: 0, maximum: 1000, default: 1, description: 'tenants upgraded first, before the rest' },
    concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 2, description: 'tenants upgraded at once after the canary' },
    autoApprove: { type: 'boolean', default: false, description: 'go on after a healthy canary without waiting for approval' },
    maxFailures: { type: 'integer', minimum: 0, maximum: 10_000, default: 0, description: 'failed tenants after the canary that halt the job once exceeded' },
    healthTimeoutSeconds: { type: 'integer', minimum: 5, maximum: 3600, description: 'how long a new app may take to pass /healthz' },
    backup: {
      type: 'string', enum: [...PRE_UPGRADE_BACKUP], default: 'required',
      description: 'a backup of each team just before its upgrade: required (a team whose backup fails is not upgraded: it fails with BACKUP_FAILED and keeps its version), best-effort (reported, the upgrade goes on) or skip'
    }
  }
} as const;

export const rollbackBody = {
  type: 'object',
  additionalProperties: false,
  properties: { tenants: { ...tenantList, description: 'only these (default: every tenant the job upgraded)' } }
} as const;

export const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'the job id (a UUID)' } }
} as const;

export const actionParams = {
  type: 'object',
  required: ['id', 'action'],
  properties: { id: idParam.properties.id, action: { type: 'string', enum: [...JOB_ACTIONS] } }
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }
} as const;

const error = { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const count = { type: 'integer' } as const;

export const jobSchema = {
  $id: 'UpgradeJob',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'selection', 'state', 'strategy', 'counts', 'tenants', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['upgrade', 'rollback'] },
    toVersion: { type: 'string' },
    rollbackOf: { type: 'string' },
    selection: { type: 'object', additionalProperties: false, properties: selection },
    strategy: {
      type: 'object',
      additionalProperties: false,
      required: ['canary', 'concurrency', 'autoApprove', 'maxFailures', 'healthTimeoutMs'],
      properties: {
        canary: { type: 'integer' },
        concurrency: { type: 'integer' },
        autoApprove: { type: 'boolean' },
        maxFailures: { type: 'integer' },
        healthTimeoutMs: { type: 'integer' },
        backup: { type: 'string', enum: [...PRE_UPGRADE_BACKUP] }
      }
    },
    state: { type: 'string', enum: [...JOB_STATES] },
    reason: { type: 'string' },
    counts: {
      type: 'object',
      additionalProperties: false,
      required: [...TENANT_STATES],
      properties: { pending: count, upgrading: count, succeeded: count, failed: count, skipped: count }
    },
    tenants: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['slug', 'from', 'to', 'canary', 'state', 'attempts'],
        properties: {
          slug: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          canary: { type: 'boolean' },
          state: { type: 'string', enum: [...TENANT_STATES] },
          step: { type: 'string' },
          operation: { type: 'string' },
          attempts: { type: 'integer' },
          error,
          backup: {
            type: 'object',
            additionalProperties: false,
            description: 'the backup taken just before its upgrade (its id), or why there is none',
            properties: { id: { type: 'string' }, error }
          },
          sleeper: {
            type: 'object',
            additionalProperties: false,
            required: ['from'],
            description: 'a team that slept when its turn came: woken for the upgrade (its wake operation), then put back (after: frozen, sleeping, or awake and why)',
            properties: { from: { type: 'string', enum: ['frozen', 'sleeping'] }, wake: { type: 'string' }, after: { type: 'string' } }
          },
          startedAt: { type: 'string' },
          endedAt: { type: 'string' }
        }
      }
    },
    createdBy: { type: 'string' },
    approvedAt: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    endedAt: { type: 'string' }
  }
} as const;

export const previewResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['tenants', 'skipped'],
  properties: {
    tenants: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['slug', 'phase', 'from', 'to', 'canary'],
        properties: { slug: { type: 'string' }, phase: { type: 'string', enum: [...PHASES] }, from: { type: 'string' }, to: { type: 'string' }, canary: { type: 'boolean' } }
      }
    },
    skipped: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['slug', 'reason'], properties: { slug: { type: 'string' }, reason: { type: 'string' } } }
    }
  }
} as const;

export const versionsResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['repository', 'versions'],
  properties: {
    repository: { type: 'string' },
    versions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['version', 'image', 'createdAt', 'tenants', 'default'],
        description: 'tenants: how many run it now; default: what new tenants get',
        properties: { version: { type: 'string' }, image: { type: 'string' }, createdAt: { type: 'string' }, tenants: { type: 'integer' }, default: { type: 'boolean' } }
      }
    }
  }
} as const;

export const jobListReply = {
  type: 'object',
  additionalProperties: false,
  required: ['jobs'],
  properties: { jobs: { type: 'array', items: { $ref: 'UpgradeJob#' } } }
} as const;

export type UpgradeJobView = FromSchema<typeof jobSchema>;
export type UpgradeJobTenant = UpgradeJobView['tenants'][number];
export type UpgradeCounts = UpgradeJobView['counts'];
export type UpgradeJobList = FromSchema<typeof jobListReply, { references: [typeof jobSchema] }>;
/** What a client may leave out: the server fills in the defaults. */
type AsSent = { keepDefaultedPropertiesOptional: true };
/**
 * The body of POST /upgrades and /upgrades/preview as a client builds it; the
 * server also checks the oneOf (exactly one of all, tenants, filter).
 */
export type UpgradeRequest = FromSchema<Omit<typeof createBody, 'oneOf'>, AsSent>;
export type RollbackBody = FromSchema<typeof rollbackBody>;
export type UpgradeListQuery = FromSchema<typeof listQuery, AsSent>;
export type UpgradePreview = FromSchema<typeof previewResponse>;
export type VersionList = FromSchema<typeof versionsResponse>;
export type AppVersion = VersionList['versions'][number];
