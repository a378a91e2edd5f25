// Shared JSON schemas: each is validation, serialization, TS type and OpenAPI doc at once.
import { ErrorCodes, type ErrorCode } from '../errors.js';

export { errorSchema } from './error.schema.js';

export interface ErrorResponse {
  $ref: 'Error#';
  description: string;
}

const line = (code: ErrorCode) => `${code}: ${ErrorCodes[code].summary}`;

/**
 * Adds the statuses these error codes answer with to a route's responses,
 * each described by the codes behind it; codes already listed are kept once.
 */
export function addErrorCodes(responses: Record<string, unknown>, codes: readonly ErrorCode[]): void {
  for (const code of codes) {
    const status = String(ErrorCodes[code].status);
    const existing = responses[status] as ErrorResponse | undefined;
    if (!existing) responses[status] = { $ref: 'Error#', description: line(code) };
    else if (existing.$ref === 'Error#' && !existing.description.split('\n').some((l) => l.startsWith(`${code}:`))) {
      responses[status] = { ...existing, description: `${existing.description}\n${line(code)}` };
    }
  }
}

/**
 * The error responses a route answers beyond those that follow from its shape
 * (validation, auth, body and URL limits: see api/route-docs.ts).
 */
export function errorResponses(...codes: ErrorCode[]): Record<string, ErrorResponse> {
  const responses: Record<string, ErrorResponse> = {};
  addErrorCodes(responses, codes);
  return responses;
}

/** Codes of every route that asks the container engine (each call has a deadline: runtime/deadlines.ts). */
export const RUNTIME_CODES = ['RUNTIME_UNAVAILABLE', 'RUNTIME_ERROR', 'RUNTIME_TIMEOUT'] as const satisfies readonly ErrorCode[];

/**
 * FromSchema options for what a handler hands the serializer: fast-json-stringify
 * writes a Date in a date-time field as its ISO string, so a service may return
 * the Dates it stored (a token's, an audit entry's) as they are.
 */
export type DatesAsDates = { deserialize: [{ pattern: { type: 'string'; format: 'date-time' }; output: Date }] };
