// GET /capacity: the host's headroom now, as admission sees it, and how many
// more teams of each plan it takes. Part of the contract (contract/index.ts).
import type { FromSchema } from 'json-schema-to-ts';

const bytes = { type: ['integer', 'null'], minimum: 0, description: 'null when the host does not say' } as const;

export const capacitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['at', 'host', 'reserve', 'starting', 'plans'],
  properties: {
    at: { type: 'string', description: 'when it was read (ISO 8601)' },
    host: {
      type: 'object',
      additionalProperties: false,
      required: ['cpus', 'load1', 'memory', 'disk'],
      properties: {
        cpus: { type: 'integer' },
        load1: { type: 'number', description: 'load average over the last minute' },
        memory: {
          type: 'object', additionalProperties: false, required: ['totalBytes', 'availableBytes'],
          properties: { totalBytes: { type: 'integer' }, availableBytes: bytes }
        },
        disk: {
          type: 'object', additionalProperties: false, required: ['path', 'freeBytes'],
          properties: { path: { type: 'string', description: 'the filesystem of teams\' volumes (BERTH_CAPACITY_DISK_PATH)' }, freeBytes: bytes }
        }
      }
    },
    reserve: {
      type: 'object', additionalProperties: false, required: ['memoryBytes', 'diskBytes'],
      description: 'kept free: admission refuses work that would eat into it (0: that check is off)',
      properties: { memoryBytes: { type: 'integer' }, diskBytes: { type: 'integer' } }
    },
    starting: {
      type: 'object', additionalProperties: false, required: ['memoryBytes', 'diskBytes', 'count'],
      description: 'room held by admitted starts still under way',
      properties: { memoryBytes: { type: 'integer' }, diskBytes: { type: 'integer' }, count: { type: 'integer' } }
    },
    plans: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['template', 'plan', 'memoryBytes', 'diskBytes', 'cpus', 'teams', 'reservedMemoryBytes', 'fitsNow'],
        properties: {
          template: { type: 'string' },
          plan: { type: 'string' },
          memoryBytes: { type: 'integer', description: 'what one team of the plan may take: its services\' memory limits' },
          diskBytes: { type: 'integer', description: 'its storage quota' },
          cpus: { type: 'number', description: 'its services\' CPU limits' },
          teams: {
            type: 'object', additionalProperties: false, required: ['up', 'frozen', 'down'],
            properties: {
              up: { type: 'integer', description: 'running, degraded, starting or upgrading' },
              frozen: { type: 'integer', description: 'paused: memory kept, no CPU' },
              down: { type: 'integer', description: 'stopped, sleeping or failed: no memory' }
            }
          },
          reservedMemoryBytes: { type: 'integer', description: 'the memory limits of its teams that hold memory (up and frozen)' },
          fitsNow: { type: ['integer', 'null'], description: 'more teams of the plan admission would start now, one after another; null when the host does not say' }
        }
      }
    }
  }
} as const;

export type CapacityView = FromSchema<typeof capacitySchema>;
