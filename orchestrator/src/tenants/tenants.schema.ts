import { PHASES, OPERATION_KINDS } from './tenant.types.js';

export const slugParam = {
  type: 'object',
  required: ['slug'],
  properties: { slug: { type: 'string', minLength: 1, maxLength: 64 } }
} as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['slug'],
  properties: {
    slug: { type: 'string', minLength: 1, maxLength: 64, description: '3-32 of a-z 0-9 -, starting with a letter' },
    displayName: { type: 'string', minLength: 1, maxLength: 80 },
    ownerEmail: { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
    plan: { type: 'string', minLength: 1, maxLength: 40 },
    template: { type: 'string', minLength: 1, maxLength: 40 }
  }
} as const;

const operationRef = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } }
} as const;

export const tenantSchema = {
  $id: 'Tenant',
  type: 'object',
  required: ['slug', 'displayName', 'plan', 'phase', 'appVersion', 'url'],
  properties: {
    slug: { type: 'string' },
    displayName: { type: 'string' },
    plan: { type: 'string' },
    template: { type: 'string' },
    templateVersion: { type: 'integer' },
    appVersion: { type: 'string' },
    phase: { type: 'string', enum: [...PHASES] },
    desired: { type: 'string', enum: ['running', 'stopped'] },
    url: { type: 'string' },
    port: { type: 'integer' },
    operation: {
      type: 'object',
      properties: { id: { type: 'string' }, kind: { type: 'string', enum: [...OPERATION_KINDS] }, step: { type: 'string' }, startedAt: { type: 'string' } }
    },
    health: {
      type: 'object',
      properties: {
        healthy: { type: 'boolean' },
        failures: { type: 'integer' },
        checkedAt: { type: 'string' },
        failing: { type: 'string' },
        detail: { type: 'string' },
        restarts: { type: 'integer' }
      }
    },
    lastError: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        at: { type: 'string' },
        step: { type: 'string', description: 'the step the failed operation was in' },
        call: { type: 'string', description: 'the container-engine call it was waiting on, when one was running' }
      }
    },
    services: { type: 'object', additionalProperties: { type: 'string' } },
    storage: {
      type: 'object',
      description: "the team's stored bytes (measured in its storage container) against its plan's storage quota",
      required: ['quotaBytes'],
      properties: {
        quotaBytes: { type: 'integer' },
        usedBytes: { type: 'integer' },
        checkedAt: { type: 'string', description: 'when usedBytes was measured' },
        error: { type: 'string', description: 'why the last measure, or setting the store\'s own limit, failed' }
      }
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' }
  }
} as const;

export const accepted = {
  type: 'object',
  required: ['operation'],
  properties: { operation: operationRef, tenant: { $ref: 'Tenant#' } }
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { phase: { type: 'string', enum: [...PHASES] } }
} as const;

export const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deleteData: { type: 'boolean', default: false },
    confirm: { type: 'string', maxLength: 64 }
  }
} as const;

export const actionParams = {
  type: 'object',
  required: ['slug', 'action'],
  properties: { slug: slugParam.properties.slug, action: { type: 'string', enum: ['start', 'stop', 'restart'] } }
} as const;

export const ownerLinkReply = {
  type: 'object',
  required: ['url', 'expiresAt', 'operation'],
  properties: {
    url: { type: 'string', description: 'the owner\'s new one-time link to choose a password; the previous one stops working' },
    expiresAt: { type: 'string', format: 'date-time' },
    operation: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } }
  }
} as const;

export const logsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: { type: 'string', minLength: 1, maxLength: 32, default: 'app' },
    tail: { type: 'integer', minimum: 0, maximum: 5000, default: 100 },
    follow: { type: 'boolean', default: false }
  }
} as const;
