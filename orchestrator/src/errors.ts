// Every error code Berth's orchestrator can return, defined once. Services
// throw these; the API maps them to HTTP with `status`.

export const ErrorCodes = {
  CONFIG_INVALID: { status: 500, summary: 'the platform configuration is invalid' },
  TEMPLATE_NOT_FOUND: { status: 404, summary: 'no stack template with that name' },
  TEMPLATE_INVALID: { status: 400, summary: 'a stack template failed validation' },
  SLUG_INVALID: { status: 400, summary: 'the tenant slug breaks the naming rules' },
  PLAN_UNKNOWN: { status: 400, summary: 'the template has no plan with that name' },
  RUNTIME_UNAVAILABLE: { status: 503, summary: 'the container engine does not answer' },
  RUNTIME_ERROR: { status: 502, summary: 'the container engine refused an operation' },
  IMAGE_MISSING: { status: 409, summary: 'an image the stack needs is not on this host' },
  HEALTH_TIMEOUT: { status: 504, summary: 'a service did not become healthy in time' }
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

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
