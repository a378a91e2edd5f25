// GET /audit: the audit log, newest first, narrowed by query filters. Admin only.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { AuditRepository } from './audit.repository.js';
import { auditEntrySchema, auditList, listQuery, type AuditSerializerOptions } from './audit.schema.js';

export const auditRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { audit: AuditRepository }; SerializerSchemaOptions: AuditSerializerOptions }> = async (app, { audit }) => {
  app.addSchema(auditEntrySchema);

  app.get('/audit', {
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
