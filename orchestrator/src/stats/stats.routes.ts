// GET /tenants/:slug/stats: the same numbers the tenant.stats events carry, read now.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import { slugParam } from '../tenants/tenants.schema.js';
import type { StatsCollector } from './stats.collector.js';
import { tenantStatsSchema } from './stats.schema.js';

type Refs = { references: [typeof tenantStatsSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

export const statsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { stats: StatsCollector } } & Provider> = async (app, { stats }) => {
  app.addSchema(tenantStatsSchema);
  app.get('/tenants/:slug/stats', {
    config: { scope: 'read' },
    schema: {
      tags: ['tenants'],
      summary: "A tenant's CPU and memory, read now",
      params: slugParam,
      response: { 200: { $ref: 'TenantStats#' }, ...errorResponses('TENANT_NOT_FOUND', ...RUNTIME_CODES) }
    }
  }, async (req) => stats.forTenant(req.params.slug));
};
