// The DevOps API as the console's server side calls it: one function per
// endpoint, the operator's session as the bearer token, a deadline on every
// call, and API errors ({error:{code,message}} with a status) as ApiError.
import type {
  AuditList, BackupList, BackupOverview, BackupView, CapacityView, CreateBackupReply, RestorePreview, RestoreReply, MeasureRequest, Measurement, MeasurementList, CapturedMails, JobAction, LoginReply, MeReply, OnboardingQuota, OperatorCreated, OperatorList, OperatorReply, OwnerLinkReply,
  SetupStartReply, SignupView, SlugCheck, StartSignupReply, TemplateList, TenantAccepted, TenantAction, TenantEventsReply, TenantStats,
  UpgradeJobList, UpgradeJobView, UpgradePreview, UpgradeRequest, VersionList
} from '$contract';
import type { SleepSetting } from '$contract';
import type { Tenant } from '$lib/tenant';
import { config } from './config';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The form field the error is about, when the API names one. */
    readonly field?: string,
    /** Seconds, from Retry-After (423 ACCOUNT_LOCKED, 429). */
    readonly retryAfter?: number
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** "body.email must match format" → "email": the API names the field in the message of VALIDATION_FAILED. */
function fieldOf(code: string, message: string): string | undefined {
  if (code === 'VALIDATION_FAILED') return /^(?:body|querystring|params)\.([A-Za-z]+)/.exec(message)?.[1];
  if (code.startsWith('TOTP')) return 'code';
  if (code === 'CONFIRMATION_REQUIRED') return 'confirm';
  if (code === 'PASSWORD_WEAK' || code === 'PASSWORD_INVALID') return 'password';
  return undefined;
}

interface Call {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
}

export type { TenantAction };

/** The API's {error:{code,message,field}} answer (or a bare status) as an ApiError. */
function errorOf(res: Response, json: unknown): ApiError {
  const e = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
  const code = e?.code ?? `HTTP_${res.status}`;
  const message = e?.message ?? `the DevOps API answered ${res.status} ${res.statusText}`;
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, code, message, e?.field ?? fieldOf(code, message), Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function unreachable(err: unknown): ApiError {
  const timedOut = (err as Error).name === 'TimeoutError';
  return new ApiError(timedOut ? 504 : 503, 'API_UNREACHABLE', timedOut
    ? `the DevOps API did not answer within ${config.apiTimeoutMs / 1000} s`
    : `the DevOps API at ${config.apiUrl} does not answer`);
}

export function api(session?: string) {
  function request(path: string, { method = 'GET', body, query, headers: extra }: Call, signal: AbortSignal): Promise<Response> {
    const url = new URL(`/api/v1${path}`, config.apiUrl);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (session) headers.authorization = `Bearer ${session}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  }

  async function call<T>(path: string, options: Call = {}): Promise<T> {
    let res: Response;
    try {
      res = await request(path, options, AbortSignal.timeout(config.apiTimeoutMs));
    } catch (err) {
      throw unreachable(err);
    }
    if (res.status === 204) return undefined as T;
    const json = parse(await res.text());
    if (!res.ok) throw errorOf(res, json);
    return json as T;
  }

  /**
   * A streamed answer (a backup's tar): the deadline holds until the API
   * answers, not for the whole body, which may take minutes; cancelling the
   * body (the browser went away) closes the API's connection.
   */
  async function stream(path: string, accept: string): Promise<Response> {
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(new DOMException('deadline', 'TimeoutError')), config.apiTimeoutMs);
    let res: Response;
    try {
      res = await request(path, { headers: { accept } }, abort.signal);
    } catch (err) {
      throw unreachable(err);
    } finally {
      clearTimeout(deadline);
    }
    if (!res.ok) throw errorOf(res, parse(await res.text()));
    return res;
  }

  return {
    /** Any endpoint, for API sections defined beside this one. */
    raw: call,
    auth: {
      setupStart: (token: string) => call<SetupStartReply>('/auth/setup/start', { method: 'POST', body: { token } }),
      setupFinish: (token: string, password: string, code: string) =>
        call<OperatorReply>('/auth/setup/finish', { method: 'POST', body: { token, password, code } }),
      /** `clientIp`: the browser's address, for the API's per-address sign-in limit (believed only from the console). */
      login: (email: string, password: string, code: string, clientIp: string) =>
        call<LoginReply>('/auth/login', { method: 'POST', body: { email, password, code }, headers: { 'x-forwarded-for': clientIp } }),
      logout: () => call<void>('/auth/logout', { method: 'POST' }),
      /** The operator this session belongs to and the scope the API grants it; an API token is not a console session (401). */
      async me(): Promise<{ operator: NonNullable<MeReply['operator']>; scope: MeReply['scope'] }> {
        const body = await call<MeReply>('/auth/me');
        if (body.kind !== 'operator' || !body.operator) throw new ApiError(401, 'UNAUTHENTICATED', 'the console needs an operator session, not an API token');
        return { operator: body.operator, scope: body.scope };
      }
    },
    operators: {
      list: async () => (await call<OperatorList>('/operators')).operators,
      create: (email: string, name: string) => call<OperatorCreated>('/operators', { method: 'POST', body: { email, name } }),
      disable: (id: string) => call<OperatorReply>(`/operators/${encodeURIComponent(id)}/disable`, { method: 'POST' }),
      reset: (id: string) => call<OperatorCreated>(`/operators/${encodeURIComponent(id)}/reset`, { method: 'POST' })
    },
    audit: async (filter: { actor?: string; action?: string; tenant?: string; result?: string; limit?: number }) =>
      (await call<AuditList>('/audit', { query: filter })).entries,
    templates: async () => (await call<TemplateList>('/templates')).templates,
    /** The host's headroom now and how many more teams of each plan fit. */
    capacity: () => call<CapacityView>('/capacity'),
    /** Capacity measurements: the team-load scenario on load teams, a prediction, a check. */
    measurements: {
      list: async () => (await call<MeasurementList>('/capacity/measurements')).measurements,
      get: (id: string) => call<Measurement>(`/capacity/measurements/${encodeURIComponent(id)}`),
      start: (body: MeasureRequest) => call<Measurement>('/capacity/measurements', { method: 'POST', body }),
      cancel: (id: string) => call<Measurement>(`/capacity/measurements/${encodeURIComponent(id)}/cancel`, { method: 'POST' })
    },
    /** Tenant-app versions on the host (image tags). */
    versions: async () => (await call<VersionList>('/versions')).versions,
    upgrades: {
      list: async () => (await call<UpgradeJobList>('/upgrades')).jobs,
      get: (id: string) => call<UpgradeJobView>(`/upgrades/${encodeURIComponent(id)}`),
      preview: (body: UpgradeRequest) => call<UpgradePreview>('/upgrades/preview', { method: 'POST', body }),
      create: (body: UpgradeRequest) => call<UpgradeJobView>('/upgrades', { method: 'POST', body }),
      act: (id: string, action: JobAction) => call<UpgradeJobView>(`/upgrades/${encodeURIComponent(id)}/actions/${action}`, { method: 'POST' }),
      rollback: (id: string, tenants?: string[]) => call<UpgradeJobView>(`/upgrades/${encodeURIComponent(id)}/rollback`, { method: 'POST', body: tenants ? { tenants } : {} })
    },
    tenants: {
      list: async () => (await call<{ tenants: Tenant[] }>('/tenants')).tenants,
      get: (slug: string) => call<Tenant>(`/tenants/${encodeURIComponent(slug)}`),
      /** `stop` with sleep: stop the team rather than freeze it. */
      action: (slug: string, action: TenantAction, query: { stop?: boolean } = {}) =>
        call<TenantAccepted>(`/tenants/${encodeURIComponent(slug)}/actions/${action}`, { method: 'POST', query }),
      /** The team's own sleep times over its plan's; an empty setting goes back to the plan's. */
      setSleep: (slug: string, setting: SleepSetting) => call<Tenant>(`/tenants/${encodeURIComponent(slug)}/sleep`, { method: 'PUT', body: setting }),
      delete: (slug: string, deleteData: boolean, confirm?: string) =>
        call<TenantAccepted>(`/tenants/${encodeURIComponent(slug)}`, { method: 'DELETE', query: { deleteData, confirm: deleteData ? confirm : undefined } }),
      events: async (slug: string, limit = 200) => (await call<TenantEventsReply>(`/tenants/${encodeURIComponent(slug)}/events`, { query: { limit } })).events,
      stats: (slug: string) => call<TenantStats & { data?: TenantStats }>(`/tenants/${encodeURIComponent(slug)}/stats`).then((s) => s.data ?? s),
      /** A new one-time owner setup link; the old one stops working once the app restarted with it. */
      ownerLink: (slug: string) => call<OwnerLinkReply>(`/tenants/${encodeURIComponent(slug)}/owner-link`, { method: 'POST' })
    },
    /** Backups: every team's at a glance, and one team's (restore, delete and download need scope admin). */
    backups: {
      overview: () => call<BackupOverview>('/backups'),
      list: async (slug: string): Promise<BackupView[]> => (await call<BackupList>(`/tenants/${encodeURIComponent(slug)}/backups`)).backups,
      create: (slug: string) => call<CreateBackupReply>(`/tenants/${encodeURIComponent(slug)}/backups`, { method: 'POST' }),
      /** What restoring would do: over the team itself, or `into` a new team. */
      preview: (slug: string, id: string, into?: string) =>
        call<RestorePreview>(`/tenants/${encodeURIComponent(slug)}/backups/${encodeURIComponent(id)}/preview`, { query: { into } }),
      restore: (slug: string, id: string, body: { into?: string; confirm?: string }) =>
        call<RestoreReply>(`/tenants/${encodeURIComponent(slug)}/backups/${encodeURIComponent(id)}/restore`, { method: 'POST', body }),
      delete: (slug: string, id: string) => call<void>(`/tenants/${encodeURIComponent(slug)}/backups/${encodeURIComponent(id)}`, { method: 'DELETE' }),
      /** The backup opened, as the API streams it (application/x-tar). */
      download: (slug: string, id: string) => stream(`/tenants/${encodeURIComponent(slug)}/backups/${encodeURIComponent(id)}/download`, 'application/x-tar, application/json')
    },
    /** What the development mail sink captured (operators). */
    mails: (limit = 50) => call<CapturedMails>('/onboarding/mails', { query: { limit } }),
    /** Self-service teams today against BERTH_ONBOARDING_TEAMS_PER_DAY (paused once reached). */
    onboardingQuota: () => call<OnboardingQuota>('/onboarding/quota')
  };
}

export type Api = ReturnType<typeof api>;

/**
 * The public sign-up API, called for a browser that has no operator session:
 * its sign-up token (from the HttpOnly cookie) and its address (for the API's
 * per-address limits, believed only from the console) ride in headers.
 */
export function onboardingApi(signup: string | undefined, clientIp: string) {
  const headers: Record<string, string> = { 'x-forwarded-for': clientIp, ...(signup ? { 'x-berth-signup': signup } : {}) };
  const call = api().raw;
  return {
    captcha: () => call<unknown>('/onboarding/captcha', { headers }),
    start: (email: string, captcha: string) => call<StartSignupReply>('/onboarding/signups', { method: 'POST', body: { email, captcha }, headers }),
    status: () => call<SignupView>('/onboarding/signup', { headers }),
    resend: () => call<SignupView>('/onboarding/signup/resend', { method: 'POST', headers }),
    verify: (code: string) => call<SignupView>('/onboarding/signup/verify', { method: 'POST', body: { code }, headers }),
    slug: (query: { slug: string } | { name: string }) => call<SlugCheck>('/onboarding/signup/slug', { query, headers }),
    team: (displayName: string, slug: string, plan?: string) => call<SignupView>('/onboarding/signup/team', { method: 'POST', body: { displayName, slug, plan }, headers }),
    retry: () => call<SignupView>('/onboarding/signup/retry', { method: 'POST', headers })
  };
}
