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
  RUNTIME_TIMEOUT: { status: 504, summary: 'the container engine did not answer a call within its deadline' },
  OPERATION_TIMEOUT: { status: 504, summary: 'an operation did not end within its deadline; it failed at the step it was in' },
  NAME_TAKEN: { status: 409, summary: 'a container, network or volume of that name exists and its labels name another owner; nothing was joined or started' },
  ROOT_REFUSED: { status: 409, summary: 'a service would run as root (its image\'s user or its template\'s), which its plan does not allow' },
  MIGRATION_FAILED: { status: 500, summary: 'moving a team\'s data to its new object names failed; the old copy is kept and the next start tries again' },
  IMAGE_MISSING: { status: 409, summary: 'an image the stack needs is not on this host' },
  HEALTH_TIMEOUT: { status: 504, summary: 'a service did not become healthy in time' },
  VALIDATION_FAILED: { status: 400, summary: 'the request body, query or parameters are invalid' },
  SLUG_RESERVED: { status: 400, summary: 'the tenant slug is a reserved name' },
  TENANT_NOT_FOUND: { status: 404, summary: 'no tenant with that slug' },
  TENANT_EXISTS: { status: 409, summary: 'a tenant with that slug already exists' },
  TENANT_DATA_EXISTS: { status: 409, summary: 'volumes of an earlier tenant with this slug exist without the credentials to open them' },
  OPERATION_CONFLICT: { status: 409, summary: 'another operation on this tenant is in progress, or the tenant is in the wrong phase' },
  CONFIRMATION_REQUIRED: { status: 400, summary: 'deleting data needs explicit confirmation' },
  PORT_EXHAUSTED: { status: 503, summary: 'no free host port left in the configured range' },
  ROUTE_INVALID: { status: 400, summary: 'a route failed validation or nginx -t' },
  PROXY_RELOAD_FAILED: { status: 502, summary: 'nginx did not reload' },
  PROXY_PROBE_FAILED: { status: 502, summary: 'the route did not answer after the reload' },
  UNAUTHENTICATED: { status: 401, summary: 'no valid API token' },
  FORBIDDEN: { status: 403, summary: 'the token lacks the scope this needs' },
  TOKEN_NOT_FOUND: { status: 404, summary: 'no API token with that id' },
  SETUP_TOKEN_INVALID: { status: 400, summary: 'the operator setup link is unknown, used or expired' },
  TOTP_INVALID: { status: 400, summary: 'the one-time code does not match the authenticator secret being enrolled' },
  TOTP_REPLAYED: { status: 401, summary: 'that one-time code (or an earlier one) was already used; wait for the next' },
  INVALID_CREDENTIALS: { status: 401, summary: 'wrong email, password or one-time code' },
  ACCOUNT_LOCKED: { status: 423, summary: 'too many failed sign-ins; retry after the time given' },
  OPERATOR_NOT_FOUND: { status: 404, summary: 'no operator with that id' },
  OPERATOR_EXISTS: { status: 409, summary: 'an operator with that email already exists' },
  OPERATOR_CONFLICT: { status: 409, summary: 'the operator cannot be changed that way (e.g. disabling yourself)' },
  STORAGE_CHECK_FAILED: { status: 502, summary: 'the team\'s storage service did not report its use or take its limit' },
  OWNER_UNKNOWN: { status: 409, summary: 'the tenant has no owner whose setup link could be issued' },
  SERVICE_NOT_RUNNING: { status: 409, summary: 'the tenant service container is not running' },
  SERVICE_HAS_NO_SHELL: { status: 409, summary: 'the service image has no /bin/sh to open a terminal in' },
  DB_UNAVAILABLE: { status: 503, summary: 'the platform database does not answer' },
  VERSION_UNKNOWN: { status: 400, summary: 'no tenant-app image of that version is on this host' },
  UPGRADE_SELECTION_EMPTY: { status: 400, summary: 'the upgrade selects no tenant that needs it' },
  UPGRADE_NOT_FOUND: { status: 404, summary: 'no upgrade job with that id' },
  UPGRADE_CONFLICT: { status: 409, summary: 'another upgrade job holds one of these tenants, or the job is in the wrong state for that' },
  UPGRADE_FAILED: { status: 502, summary: 'the tenant did not end on the target version; it keeps the one it had' },
  UPGRADE_INTERRUPTED: { status: 500, summary: 'orchestrator restarts interrupted this tenant\'s upgrade too often' },
  ONBOARDING_DISABLED: { status: 403, summary: 'sign-ups are turned off on this platform' },
  RATE_LIMITED: { status: 429, summary: 'too many requests from this address or for this email; retry after the time given' },
  SIGNUP_LIMIT: { status: 429, summary: 'too many sign-ups today from this address or for this email' },
  SIGNUPS_PAUSED: { status: 503, summary: 'the platform made as many self-service teams today as it allows; retry after the time given' },
  CAPTCHA_INVALID: { status: 400, summary: 'the captcha solution is missing, wrong, expired or already used' },
  SIGNUP_UNKNOWN: { status: 401, summary: 'the sign-up is unknown or expired; start again' },
  SIGNUP_STEP: { status: 409, summary: 'the sign-up is not at the step this needs' },
  SIGNUP_LOCKED: { status: 423, summary: 'too many wrong codes: the sign-up is locked; start again' },
  CODE_INVALID: { status: 400, summary: 'the email code is wrong' },
  CODE_EXPIRED: { status: 400, summary: 'the email code has expired; ask for a new one' },
  RESEND_TOO_SOON: { status: 429, summary: 'a new code was sent a moment ago, or too many were sent' },
  MAIL_FAILED: { status: 502, summary: 'the mail server refused the message or did not answer' },
  SLUG_TAKEN: { status: 409, summary: 'another team has that name; the message suggests a free one' },
  NOT_FOUND: { status: 404, summary: 'no such route' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'the path exists but not with this method; the Allow header lists those it has' },
  BODY_TOO_LARGE: { status: 413, summary: 'the request body is over the 64 KiB limit' },
  URI_TOO_LONG: { status: 414, summary: 'a path parameter is over 100 characters (checked before anything else, authentication included)' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'the request body is not application/json' },
  SERVICE_NO_CONTAINER: { status: 409, summary: 'the tenant service has no container (not made yet, or removed after a failure): there is nothing to read' },
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
