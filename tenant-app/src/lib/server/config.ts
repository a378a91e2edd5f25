// The app is configured only by the environment its stack gives it. Read and
// checked once, here; a missing or malformed variable stops the app at start
// with a message naming it, rather than failing later on a request.
import { env } from '$env/dynamic/private';

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
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function required(name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is required (see tenant-app/README.md)`);
  return value;
}

function integer(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function load(): AppConfig {
  const endpoint = new URL(required('MINIO_ENDPOINT'));
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new ConfigError(`MINIO_ENDPOINT must be an http(s) URL, got "${env.MINIO_ENDPOINT}"`);
  }
  const bucket = required('MINIO_BUCKET');
  // S3 bucket naming rules; MinIO refuses anything else with an opaque error.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`MINIO_BUCKET "${bucket}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  }
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
    checkTimeoutMs: integer('HEALTH_CHECK_TIMEOUT_MS', 2000)
  };
}

let cached: AppConfig | undefined;
export function config(): AppConfig {
  cached ??= load();
  return cached;
}
