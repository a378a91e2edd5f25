// The shape of every error answer: a leaf the contract re-exports.
import type { FromSchema } from 'json-schema-to-ts';
import type { ErrorCode } from '../contract/error-codes.js';

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  additionalProperties: false,
  description: 'Every error Berth answers: a stable code (orchestrator/src/errors.ts) and a message saying what to do.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'string', description: 'a key of the contract\'s ErrorCodes' }, message: { type: 'string' } }
    }
  }
} as const;

/** An error answer; `code` is one of the contract's ErrorCodes. */
export type ErrorBody = { error: Omit<FromSchema<typeof errorSchema>['error'], 'code'> & { code: ErrorCode } };
