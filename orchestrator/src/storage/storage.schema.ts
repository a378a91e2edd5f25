// What the API shows of a team's stored bytes: a leaf, so the storage module
// and the tenant schema share it without importing each other.
import type { FromSchema } from 'json-schema-to-ts';

export const storageSchema = {
  type: 'object',
  description: "the team's stored bytes (measured in its storage container) against its plan's storage quota; absent when the template states no quota",
  additionalProperties: false,
  required: ['quotaBytes'],
  properties: {
    quotaBytes: { type: 'integer' },
    usedBytes: { type: 'integer' },
    checkedAt: { type: 'string', description: 'when usedBytes was measured' },
    error: { type: 'string', description: 'why the last measure, or setting the store\'s own limit, failed' }
  }
} as const;

export type StorageView = FromSchema<typeof storageSchema>;
