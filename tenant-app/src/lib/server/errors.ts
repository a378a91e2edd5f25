// Every error code the app answers with, defined once. Services throw
// AppError; routes translate it (api/respond.ts for JSON, fail() for forms).
export const ERRORS = {
  UNAUTHENTICATED: { status: 401, message: 'sign in first' },
  CSRF_TOKEN_INVALID: { status: 403, message: 'missing or wrong x-csrf-token header' },
  FORBIDDEN: { status: 403, message: 'you may not do that' },
  NOT_FOUND: { status: 404, message: 'not found' },
  VALIDATION: { status: 400, message: 'invalid input' },
  LENGTH_REQUIRED: { status: 411, message: 'a Content-Length header is required' },
  TOO_LARGE: { status: 413, message: 'too large' },
  STORAGE_FULL: { status: 413, message: "your team's storage is full" },
  TOO_MANY_ATTEMPTS: { status: 429, message: 'too many failed sign-ins; try again later' },
  CONFLICT: { status: 409, message: 'conflict' },
  RATE_LIMITED: { status: 429, message: 'too many requests; try again later' },
  NOT_READY: { status: 503, message: 'the app is starting' },
  MAIL_FAILED: { status: 502, message: 'the mail could not be sent' }
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** Per-field explanations, shown next to the field. */
    readonly fields?: Record<string, string>,
    /** For 429: seconds until a retry can succeed (the Retry-After header). */
    readonly retryAfterSeconds?: number
  ) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }
}
