// GET /templates: a loaded stack template as the console's templates page shows it.
import type { FromSchema } from 'json-schema-to-ts';
import { planSleepSchema } from '../tenants/sleep.schema.js';

const limits = {
  type: 'object',
  additionalProperties: false,
  required: ['memory', 'cpus', 'pids'],
  properties: {
    memory: { type: 'string', description: 'as in the template, e.g. 256m' },
    memoryBytes: { type: 'integer' },
    cpus: { type: 'number' },
    pids: { type: 'integer' }
  }
} as const;

export const templateSchema = {
  $id: 'Template',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'version', 'route', 'defaultPlan', 'plans', 'services'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    version: { type: 'integer' },
    route: { type: 'object', additionalProperties: false, required: ['service', 'port'], properties: { service: { type: 'string' }, port: { type: 'integer' } } },
    defaultPlan: { type: 'string' },
    plans: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'services', 'edge', 'sleep'],
        properties: {
          description: { type: 'string' },
          storageQuotaBytes: { type: 'integer', description: 'the most a team on this plan may store' },
          edge: {
            type: 'object',
            additionalProperties: false,
            required: ['ratePerMinute', 'burst', 'connections', 'maxBodyBytes'],
            description: 'what nginx allows each team on this plan (defaults filled in)',
            properties: { ratePerMinute: { type: 'integer' }, burst: { type: 'integer' }, connections: { type: 'integer' }, maxBodyBytes: { type: 'integer' } }
          },
          sleep: { ...planSleepSchema, description: 'idle this long, a team on this plan is frozen (pause) or stopped (stop); Berth\'s defaults where the plan states none; a team may have its own' },
          services: { type: 'object', additionalProperties: limits }
        }
      }
    },
    services: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['name', 'image'], properties: { name: { type: 'string' }, image: { type: 'string' } } }
    }
  }
} as const;

export const templateList = {
  type: 'object',
  additionalProperties: false,
  required: ['templates'],
  properties: { templates: { type: 'array', items: { $ref: 'Template#' } } }
} as const;

export type TemplateView = FromSchema<typeof templateSchema>;
export type TemplateList = FromSchema<typeof templateList, { references: [typeof templateSchema] }>;
