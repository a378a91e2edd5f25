// GET /audit: one write as the audit log keeps it.
import type { FromSchema } from 'json-schema-to-ts';

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

export type AuditEntryView = FromSchema<typeof auditEntrySchema>;
export type AuditList = FromSchema<typeof auditList, { references: [typeof auditEntrySchema] }>;
