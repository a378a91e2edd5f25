// GET /audit: the audit log, newest first, narrowed by query filters. Admin only.
import type { FastifyPluginAsync } from 'fastify';
import { AUDIT_MAX_LIMIT, type AuditRepository } from './audit.repository.js';

const listQuery = {
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

export const auditEntrySchema = {
  $id: 'AuditEntry',
  type: 'object',
  required: ['at', 'actor', 'action', 'target', 'status', 'result', 'ip'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    actor: {
      type: ['object', 'null'],
      description: 'the token used; null when none was valid',
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

interface ListQuery {
  actor?: string;
  action?: string;
  tenant?: string;
  result?: string;
  since?: string;
  limit: number;
}

export const auditRoutes: FastifyPluginAsync<{ audit: AuditRepository }> = async (app, { audit }) => {
  app.addSchema(auditEntrySchema);

  app.get<{ Querystring: ListQuery }>('/audit', {
    config: { scope: 'admin' },
    schema: {
      tags: ['audit'],
      summary: 'Read the audit log of writes',
      querystring: listQuery,
      response: { 200: { type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: { $ref: 'AuditEntry#' } } } } }
    }
  }, async (req) => {
    const { since, ...rest } = req.query;
    return { entries: await audit.list({ ...rest, since: since ? new Date(since) : undefined }) };
  });
};
