// GET /audit: one write as the audit log keeps it, and the filters of the list.
import type { FromSchema } from 'json-schema-to-ts';
import type { DatesAsDates } from '../api/schemas.js';

export const AUDIT_MAX_LIMIT = 500;

export const auditEntrySchema = {
  $id: 'AuditEntry',
  type: 'object',
  additionalProperties: false,
  required: ['at', 'actor', 'action', 'target', 'status', 'result', 'ip'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    actor: {
      type: ['object', 'null'],
      description: 'the token used; null when none was valid',
      additionalProperties: false,
      required: ['tokenId', 'name'],
      properties: { tokenId: { type: 'string' }, name: { type: 'string' } }
    },
    action: { type: 'string' },
    target: {
      type: 'object',
      description: 'route params: tenant (from :slug), id, and any other by name',
      properties: { tenant: { type: 'string' }, id: { type: 'string' } },
      additionalProperties: { type: 'string' }
    },
    status: { type: 'integer' },
    result: { type: 'string' },
    ip: { type: 'string' }
  }
} as const;

export const auditList = {
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: { entries: { type: 'array', items: { $ref: 'AuditEntry#' } } }
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', maxLength: 64, description: 'token id or token name' },
    action: { type: 'string', maxLength: 256, description: 'method and route pattern, e.g. "POST /api/v1/tenants/:slug/actions/:action"' },
    tenant: { type: 'string', maxLength: 64 },
    result: { type: 'string', maxLength: 64, description: '"ok" or an error code' },
    since: { type: 'string', maxLength: 40, format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: AUDIT_MAX_LIMIT, default: 100 }
  }
} as const;

/** What the route's serializer takes: AuditEntry by reference, and Dates. */
export type AuditSerializerOptions = DatesAsDates & { references: [typeof auditEntrySchema] };

export type AuditEntryView = FromSchema<typeof auditEntrySchema>;
export type AuditList = FromSchema<typeof auditList, { references: [typeof auditEntrySchema] }>;
export type AuditListQuery = FromSchema<typeof listQuery>;
