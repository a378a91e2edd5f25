// GET /audit: the audit log, newest first, narrowed by query filters. Admin only.
import type { FastifyPluginAsync } from 'fastify';
import { AUDIT_MAX_LIMIT, type AuditRepository } from './audit.repository.js';
import { auditEntrySchema, auditList } from './audit.schema.js';

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
      response: { 200: auditList }
    }
  }, async (req) => {
    const { since, ...rest } = req.query;
    return { entries: await audit.list({ ...rest, since: since ? new Date(since) : undefined }) };
  });
};
