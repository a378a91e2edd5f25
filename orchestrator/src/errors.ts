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
  HEALTH_TIMEOUT: { status: 504, summary: 'a service did not become healthy in time' },
  VALIDATION_FAILED: { status: 400, summary: 'the request body, query or parameters are invalid' },
  SLUG_RESERVED: { status: 400, summary: 'the tenant slug is a reserved name' },
  TENANT_NOT_FOUND: { status: 404, summary: 'no tenant with that slug' },
  TENANT_EXISTS: { status: 409, summary: 'a tenant with that slug already exists' },
  OPERATION_CONFLICT: { status: 409, summary: 'another operation on this tenant is in progress, or the tenant is in the wrong phase' },
  CONFIRMATION_REQUIRED: { status: 400, summary: 'deleting data needs explicit confirmation' },
  PORT_EXHAUSTED: { status: 503, summary: 'no free host port left in the configured range' },
  ROUTE_INVALID: { status: 400, summary: 'a route failed validation or nginx -t' },
  PROXY_RELOAD_FAILED: { status: 502, summary: 'nginx did not reload' },
  PROXY_PROBE_FAILED: { status: 502, summary: 'the route did not answer after the reload' },
  UNAUTHENTICATED: { status: 401, summary: 'no valid API token' },
  FORBIDDEN: { status: 403, summary: 'the token lacks the scope this needs' },
  TOKEN_NOT_FOUND: { status: 404, summary: 'no API token with that id' },
  DB_UNAVAILABLE: { status: 503, summary: 'the platform database does not answer' },
  NOT_FOUND: { status: 404, summary: 'no such route' },
  INTERNAL: { status: 500, summary: 'an unexpected error; see the orchestrator log' }
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
