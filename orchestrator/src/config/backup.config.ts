// Where backups go (BERTH_BACKUP_*): a directory on the host, or an
// S3-compatible bucket when an endpoint is set. Read and checked at start, so
// a bad setting stops the platform with what to fix instead of failing the
// first backup at night.
import { BerthError } from '../errors.js';

export interface S3Settings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  prefix: string;
  region: string;
}

export interface BackupConfig {
  /** The directory target (also where files are sealed before an upload). */
  dir: string;
  /** Set: backups go to this bucket instead of the directory. */
  s3?: S3Settings;
  /** How often the scheduler looks for teams due a backup. */
  intervalMs: number;
  /** Scheduled backups running at once. */
  parallel: number;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._-]{1,64}(\/[A-Za-z0-9._-]{1,64}){0,7}$/;

export function readBackupConfig(optional: (name: string) => string): BackupConfig {
  const bad = (name: string, why: string) => new BerthError('CONFIG_INVALID', `${name} ${why}`);
  const dir = optional('BERTH_BACKUP_DIR');
  if (!dir.startsWith('/') || dir.length > 200 || dir.split('/').includes('..')) throw bad('BERTH_BACKUP_DIR', `must be an absolute path without "..", got "${dir.slice(0, 80)}"`);
  const count = (name: string, fallback: number, min: number, max: number) => {
    const raw = optional(name);
    const value = raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw bad(name, `must be an integer from ${min} to ${max}, got "${raw.slice(0, 40)}"`);
    return value;
  };
  const loop = { intervalMs: count('BERTH_BACKUP_INTERVAL_MS', 60_000, 1000, 86_400_000), parallel: count('BERTH_BACKUP_PARALLEL', 1, 1, 16) };
  const endpoint = optional('BERTH_BACKUP_S3_ENDPOINT');
  if (!endpoint) return { dir, ...loop };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad('BERTH_BACKUP_S3_ENDPOINT', `must be a URL like https://s3.example.com, got "${endpoint.slice(0, 80)}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.username || url.search) {
    throw bad('BERTH_BACKUP_S3_ENDPOINT', 'must be http(s)://host[:port] with no path, user or query (the keys go in BERTH_BACKUP_S3_ACCESS_KEY and _SECRET_KEY)');
  }
  const bucket = optional('BERTH_BACKUP_S3_BUCKET');
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw bad('BERTH_BACKUP_S3_BUCKET', `must be an S3 bucket name (3-63 of a-z, 0-9, ".", "-"), got "${bucket.slice(0, 80)}"`);
  const prefix = optional('BERTH_BACKUP_S3_PREFIX');
  if (!PREFIX.test(prefix) || prefix.split('/').some((s) => s === '.' || s === '..')) throw bad('BERTH_BACKUP_S3_PREFIX', `must be path segments of A-Z, a-z, 0-9, ".", "_", "-" (no "..", no leading or trailing "/"), got "${prefix.slice(0, 80)}"`);
  const accessKey = optional('BERTH_BACKUP_S3_ACCESS_KEY');
  const secretKey = optional('BERTH_BACKUP_S3_SECRET_KEY');
  if (!accessKey || !secretKey) throw bad('BERTH_BACKUP_S3_ACCESS_KEY', 'and BERTH_BACKUP_S3_SECRET_KEY must both be set (in the environment, not in a file in git) when BERTH_BACKUP_S3_ENDPOINT is');
  return { dir, ...loop, s3: { endpoint: url.origin, accessKey, secretKey, bucket, prefix, region: optional('BERTH_BACKUP_S3_REGION') || 'us-east-1' } };
}
