// Services throw BerthError with a code of the contract's table
// (contract/error-codes.ts); the API maps them to HTTP with `status`.
import { ErrorCodes, type ErrorCode } from './contract/error-codes.js';

export { ErrorCodes, type ErrorCode };

export class BerthError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown }
  ) {
    super(message, options);
    this.name = 'BerthError';
    this.status = ErrorCodes[code].status;
  }
}
