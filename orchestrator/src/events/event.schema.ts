// One event of the bus, as the socket, the stream and /tenants/:slug/events send it.
import type { FromSchema } from 'json-schema-to-ts';

export const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'at', 'type'],
  properties: {
    seq: { type: 'integer', description: 'increasing within a process; ties broken by `at`' },
    at: { type: 'string' },
    type: { type: 'string', description: 'e.g. operation.step, tenant.phase, tenant.stats, upgrade.state' },
    tenant: { type: 'string' },
    operation: { type: 'string', description: 'the operation or upgrade job it belongs to' },
    data: { type: 'object', additionalProperties: true }
  }
} as const;

export type BerthEvent = FromSchema<typeof eventSchema>;
