// A tenant's CPU and memory: GET /tenants/:slug/stats and the data of tenant.stats events.
import type { FromSchema } from 'json-schema-to-ts';

const serviceStats = {
  type: 'object',
  additionalProperties: false,
  required: ['cpuPercent', 'memoryBytes', 'memoryLimitBytes'],
  properties: {
    cpuPercent: { type: 'number' }, memoryBytes: { type: 'integer' }, memoryLimitBytes: { type: 'integer' }, pids: { type: 'integer' },
    blockReadBytes: { type: 'integer', description: 'read from block devices since the container started' },
    blockWriteBytes: { type: 'integer', description: 'written to block devices since the container started' }
  }
} as const;

export const tenantStatsSchema = {
  $id: 'TenantStats',
  type: 'object',
  additionalProperties: false,
  description: 'CPU (% of one CPU, summed over services) and memory of the running services; the data of tenant.stats events.',
  required: ['cpuPercent', 'memoryBytes', 'memoryLimitBytes', 'services'],
  properties: { ...serviceStats.properties, services: { type: 'object', additionalProperties: serviceStats } }
} as const;

export type TenantStats = FromSchema<typeof tenantStatsSchema>;
