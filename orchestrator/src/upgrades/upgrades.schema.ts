import { PHASES } from '../tenants/tenant.types.js';
import { slug } from '../tenants/tenants.schema.js';
import { VERSION_PATTERN } from './selection.js';
import { JOB_ACTIONS, JOB_STATES, TENANT_STATES } from './upgrade.types.js';

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
    healthTimeoutSeconds: { type: 'integer', minimum: 5, maximum: 3600, description: 'how long a new app may take to pass /healthz' }
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

const error = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

export const jobSchema = {
  $id: 'UpgradeJob',
  type: 'object',
  required: ['id', 'kind', 'state', 'strategy', 'counts', 'tenants', 'createdAt'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['upgrade', 'rollback'] },
    toVersion: { type: 'string' },
    rollbackOf: { type: 'string' },
    selection: { type: 'object', properties: selection },
    strategy: {
      type: 'object',
      properties: {
        canary: { type: 'integer' },
        concurrency: { type: 'integer' },
        autoApprove: { type: 'boolean' },
        maxFailures: { type: 'integer' },
        healthTimeoutMs: { type: 'integer' }
      }
    },
    state: { type: 'string', enum: [...JOB_STATES] },
    reason: { type: 'string' },
    counts: { type: 'object', properties: Object.fromEntries(TENANT_STATES.map((s) => [s, { type: 'integer' }])) },
    tenants: {
      type: 'array',
      items: {
        type: 'object',
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
  properties: {
    tenants: {
      type: 'array',
      items: { type: 'object', properties: { slug: { type: 'string' }, phase: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, canary: { type: 'boolean' } } }
    },
    skipped: { type: 'array', items: { type: 'object', properties: { slug: { type: 'string' }, reason: { type: 'string' } } } }
  }
} as const;

export const versionsResponse = {
  type: 'object',
  properties: {
    repository: { type: 'string' },
    versions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { version: { type: 'string' }, image: { type: 'string' }, createdAt: { type: 'string' }, tenants: { type: 'integer' }, default: { type: 'boolean' } }
      }
    }
  }
} as const;
