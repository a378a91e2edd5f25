// The app is configured only by the environment its stack gives it. Read and
// checked once, here; a missing or malformed variable stops the app at start
// with a message naming it, rather than failing later on a request.
import { env } from '$env/dynamic/private';
// PUBLIC_* variables are public in SvelteKit's sense, so they live only here.
import { env as publicEnv } from '$env/dynamic/public';

export interface SmtpConfig {
  /** smtp:// or smtps:// URL, credentials included (nodemailer's format). */
  url: string;
  from: string;
  timeoutMs: number;
}

export interface AppConfig {
  mongoUrl: string;
  storage: {
    endPoint: string;
    port: number;
    useSSL: boolean;
    accessKey: string;
    secretKey: string;
    bucket: string;
  };
  version: string;
  /** How long a health dependency may take before it counts as failed. */
  checkTimeoutMs: number;
  /** How long the app waits at start for its database and storage before it exits naming them. */
  startupWaitMs: number;
  /** Where members reach the app, for links in mail; else the request's own origin. */
  publicUrl: string | undefined;
  /** Absent: invitations show the link to the owner instead of mailing it. */
  smtp: SmtpConfig | undefined;
  attachmentMaxBytes: number;
  /** The most the team may keep in its bucket (its plan's quota); absent: no quota. */
  storageQuotaBytes: number | undefined;
  /** Largest body any other request may carry (forms, JSON). */
  requestMaxBytes: number;
  sessionTtlMs: number;
  inviteTtlMs: number;
  /** Invitations the team may send per hour (each can be a mail through the platform's relay). */
  invitesPerHour: number;
  /** setupExpiresAt: when the setup link stops working (the platform's OWNER_SETUP_EXPIRES_AT); undefined: never. */
  owner: { email: string; setupToken: string | undefined; setupExpiresAt: Date | undefined } | undefined;
  logLevel: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function required(name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is required (see tenant-app/README.md)`);
  return value;
}

function optionalInteger(name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function integer(name: string, fallback: number): number {
  return optionalInteger(name) ?? fallback;
}

function httpUrl(name: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  return url;
}

function smtp(): SmtpConfig | undefined {
  const raw = env.SMTP_URL;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError(`SMTP_URL must use smtp: or smtps:, got "${url.protocol}"`);
  return { url: raw, from: env.MAIL_FROM || 'Berth <no-reply@localhost>', timeoutMs: integer('SMTP_TIMEOUT_MS', 10_000) };
}

function owner(): AppConfig['owner'] {
  const email = env.OWNER_EMAIL?.trim().toLowerCase();
  if (!email) return undefined;
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new ConfigError(`OWNER_EMAIL is not an email address: "${email}"`);
  const setupToken = env.OWNER_SETUP_TOKEN || undefined;
  // The token is the owner's only way in until they set a password.
  if (setupToken !== undefined && !/^[A-Za-z0-9_-]{22,}$/.test(setupToken)) {
    throw new ConfigError('OWNER_SETUP_TOKEN must be at least 22 URL-safe characters (128 bits)');
  }
  const expires = env.OWNER_SETUP_EXPIRES_AT || undefined;
  const setupExpiresAt = expires === undefined ? undefined : new Date(expires);
  if (setupExpiresAt && Number.isNaN(setupExpiresAt.getTime())) {
    throw new ConfigError(`OWNER_SETUP_EXPIRES_AT must be an ISO 8601 time like 2031-03-04T05:06:07Z, got "${expires}"`);
  }
  return { email, setupToken, setupExpiresAt };
}

function load(): AppConfig {
  const endpoint = httpUrl('MINIO_ENDPOINT', required('MINIO_ENDPOINT'));
  const bucket = required('MINIO_BUCKET');
  // S3 bucket naming rules; MinIO refuses anything else with an opaque error.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`MINIO_BUCKET "${bucket}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  }
  const publicRaw = publicEnv.PUBLIC_URL || env.ORIGIN;
  return {
    mongoUrl: required('MONGO_URL'),
    storage: {
      endPoint: endpoint.hostname,
      port: Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)),
      useSSL: endpoint.protocol === 'https:',
      accessKey: required('MINIO_ACCESS_KEY'),
      secretKey: required('MINIO_SECRET_KEY'),
      bucket
    },
    version: env.APP_VERSION || '0.0.0-dev',
    checkTimeoutMs: integer('HEALTH_CHECK_TIMEOUT_MS', 2000),
    startupWaitMs: integer('STARTUP_WAIT_MS', 60_000),
    publicUrl: publicRaw ? httpUrl(publicEnv.PUBLIC_URL ? 'PUBLIC_URL' : 'ORIGIN', publicRaw).origin : undefined,
    smtp: smtp(),
    attachmentMaxBytes: integer('ATTACHMENT_MAX_BYTES', 25 * 1024 * 1024),
    storageQuotaBytes: optionalInteger('STORAGE_QUOTA_BYTES'),
    requestMaxBytes: integer('REQUEST_MAX_BYTES', 256 * 1024),
    sessionTtlMs: integer('SESSION_TTL_HOURS', 24 * 14) * 3_600_000,
    inviteTtlMs: integer('INVITE_TTL_HOURS', 24 * 7) * 3_600_000,
    invitesPerHour: integer('INVITES_PER_HOUR', 20),
    owner: owner(),
    logLevel: env.LOG_LEVEL || 'info'
  };
}

let cached: AppConfig | undefined;
export function config(): AppConfig {
  cached ??= load();
  return cached;
}
