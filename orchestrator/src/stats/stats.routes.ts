// GET /tenants/:slug/stats: the same numbers the tenant.stats events carry, read now.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import { slugParam } from '../tenants/tenants.schema.js';
import type { StatsCollector } from './stats.collector.js';

const serviceStats = {
  type: 'object',
  required: ['cpuPercent', 'memoryBytes', 'memoryLimitBytes'],
  properties: { cpuPercent: { type: 'number' }, memoryBytes: { type: 'integer' }, memoryLimitBytes: { type: 'integer' }, pids: { type: 'integer' } }
} as const;

export const tenantStatsSchema = {
  $id: 'TenantStats',
  type: 'object',
  description: 'CPU (% of one CPU, summed over services) and memory of the running services; the data of tenant.stats events.',
  required: ['cpuPercent', 'memoryBytes', 'memoryLimitBytes', 'services'],
  properties: { ...serviceStats.properties, services: { type: 'object', additionalProperties: serviceStats } }
} as const;

export const statsRoutes: FastifyPluginAsync<{ stats: StatsCollector }> = async (app, { stats }) => {
  app.addSchema(tenantStatsSchema);
  app.get<{ Params: { slug: string } }>('/tenants/:slug/stats', {
    config: { scope: 'read' },
    schema: {
      tags: ['tenants'],
      summary: "A tenant's CPU and memory, read now",
      params: slugParam,
      response: { 200: { $ref: 'TenantStats#' }, ...errorResponses('TENANT_NOT_FOUND', ...RUNTIME_CODES) }
    }
  }, async (req) => stats.forTenant(req.params.slug));
};
