// Platform configuration, read and validated once: scripts/defaults.env gives
// the defaults (shared with the bash scripts), the environment overrides them.
// Nothing else in the orchestrator reads process.env.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { BerthError } from '../errors.js';
import { PLATFORM_NAME } from '../names.js';
import { readOnboardingConfig, type OnboardingConfig } from './onboarding.config.js';
import { publicOrigin, readTlsConfig, type TlsConfig } from './tls.config.js';
import { readBackupConfig, type BackupConfig } from './backup.config.js';

export interface PlatformConfig {
  rootDir: string;
  logLevel: string;
  /** Labels everything this installation makes; its reconciler touches nothing else. */
  platformId: string;
  home: string;
  baseDomain: string;
  templatesDir: string;
  images: { db: string; storage: string; nodeBase: string; appRepo: string };
  /** The tenant-app version new stacks run unless told otherwise. */
  defaultAppVersion: string;
  dockerSocket: string;
  /**
   * Teams' apps send mail through the platform's relay, which forwards it
   * through smtpUrl (the platform's real SMTP server, never given to a team).
   * An empty smtpUrl turns the relay off: apps show invitation links instead.
   */
  mailRelay: { smtpUrl: string; from: string; port: number; perHour: number };
  api: { host: string; port: number };
  /** Set when the control plane uses an external MongoDB instead of its own container. */
  mongoUrl?: string;
  mongoDb: string;
  /** The registry's own database container; reached through a socket under home/platform-db. */
  platformDb: { container: string };
  /** Hex-encoded 256-bit key for secrets at rest; else read or made in home/platform.key. */
  platformKey?: string;
  portRange: { from: number; to: number };
  maxParallelOps: number;
  /** Deadlines: one container-engine call (beyond its own wait), and one whole operation. */
  deadlines: { runtimeCallMs: number; operationMs: number };
  health: { intervalMs: number; failuresBeforeDegraded: number };
  /**
   * A starting stack: each service may use `cpus` CPUs (more than its plan)
   * until its probe passes, and is probed every `probeIntervalMs` meanwhile;
   * then it is held to its plan's cpus. The monitor keeps health.intervalMs.
   */
  start: { cpus: number; probeIntervalMs: number };
  /**
   * A crashed tenant container: the engine restarts it up to restartRetries
   * times itself (0: never), the crash watcher starts it after a kill; more
   * than crashLoopRestarts deaths of one service within crashLoopWindowMs fail
   * the team (CRASH_LOOP) instead.
   */
  healing: { restartRetries: number; crashLoopRestarts: number; crashLoopWindowMs: number };
  reconcileIntervalMs: number;
  /**
   * Idle teams sleep (sleep/sleep-policy.ts): a pass every intervalMs; when
   * the host's MemAvailable is below minAvailableBytes, up to pressureBatch
   * frozen teams (the longest idle first) are stopped per pass.
   */
  sleep: { intervalMs: number; minAvailableBytes: number; pressureBatch: number };
  /**
   * Wake on request (sleep/wake-server.ts): the listener nginx asks, on
   * 127.0.0.1:port only. One ask waits about a second (berth_routes.lua), after
   * which a browser gets a page that asks again by itself; an API client is
   * held up to holdMs, then answered 503 with Retry-After.
   */
  wake: { port: number; holdMs: number };
  /**
   * Admission (capacity/admission.ts): a create, a start or wake of a team
   * whose containers are down, and an upgrade's second app are refused
   * (CAPACITY) when the room they may take would leave the host less than
   * these reserves: MemAvailable, and the free space of the filesystem
   * holding diskPath (Docker's data root, where volumes live).
   */
  capacity: { memoryReserveBytes: number; diskReserveBytes: number; diskPath: string };
  /** Where backups go: BERTH_BACKUP_DIR, or an S3-compatible bucket (BERTH_BACKUP_S3_*). */
  backups: BackupConfig;
  /** controlSocket and tableFile: the route table's control endpoint and file (proxy-config/berth_routes.lua). */
  nginx: { bin: string; prefix: string; confFile: string; controlSocket: string; tableFile: string; httpPort: number };
  /**
   * The operator console's base URL: setup links are `${consoleUrl}/setup/<token>`.
   * With TLS on, its public address (https://<console host>), else BERTH_CONSOLE_URL.
   */
  consoleUrl: string;
  /** TLS at the edge; publicScheme(tls) is the scheme of every public URL (tls.config.ts). */
  tls: TlsConfig;
  terminal: { idleMs: number };
  stats: { intervalMs: number; concurrency: number };
  /** Teams' storage use: how old a figure may be before a tenant's read measures again. */
  storage: { maxAgeMs: number };
  /** Bulk upgrades: how long a new app may take to pass /healthz, and the old one to drain. */
  upgrades: { healthTimeoutMs: number; drainTimeoutMs: number };
  /** Operator sign-in attempts per client address (IPv6 by /64) per window; more answer 429. */
  operatorSignIn: { perAddress: number; windowMs: number };
  /** How long a team owner's one-time setup link works. */
  ownerLinkTtlMs: number;
  /** The public sign-up wizard (BERTH_ONBOARDING_*). */
  onboarding: OnboardingConfig;
}

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, rootDir = ROOT_DIR): PlatformConfig {
  const defaults = parseEnvFile(readFileSync(path.join(rootDir, 'scripts/defaults.env'), 'utf8'));
  const get = (name: string): string => {
    const value = env[name] ?? defaults[name];
    if (value === undefined || value === '') {
      throw new BerthError('CONFIG_INVALID', `${name} is not set (scripts/defaults.env or the environment)`);
    }
    return value;
  };
  const optional = (name: string): string => env[name] ?? defaults[name] ?? '';
  const smtpUrl = optional('BERTH_SMTP_URL');
  if (smtpUrl && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) {
    throw new BerthError('CONFIG_INVALID', 'BERTH_SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465');
  }
  const int = (name: string, min: number, max: number): number => {
    const raw = get(name);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new BerthError('CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
  const decimal = (name: string, min: number, max: number): number => {
    const raw = get(name);
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
      throw new BerthError('CONFIG_INVALID', `${name} must be a number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
  const range = /^(\d+)-(\d+)$/.exec(get('BERTH_PORT_RANGE'));
  const portRange = range ? { from: Number(range[1]), to: Number(range[2]) } : undefined;
  if (!portRange || portRange.from < 1024 || portRange.to > 65535 || portRange.from > portRange.to) {
    throw new BerthError('CONFIG_INVALID', `BERTH_PORT_RANGE must look like 20000-29999 (within 1024-65535), got "${get('BERTH_PORT_RANGE')}"`);
  }
  const platformKey = env.BERTH_PLATFORM_KEY;
  if (platformKey !== undefined && !/^[0-9a-f]{64}$/i.test(platformKey)) {
    throw new BerthError('CONFIG_INVALID', 'BERTH_PLATFORM_KEY must be 64 hex characters (256 bits); generate one with: openssl rand -hex 32');
  }
  const consoleUrl = get('BERTH_CONSOLE_URL');
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(consoleUrl)) {
    throw new BerthError('CONFIG_INVALID', `BERTH_CONSOLE_URL must be an http(s) URL like http://127.0.0.1:7400, got "${consoleUrl}"`);
  }
  const platformDbContainer = get('BERTH_PLATFORM_DB_CONTAINER');
  if (!PLATFORM_NAME.test(platformDbContainer)) {
    // A dot would let it equal a tenant's object name (names.ts).
    throw new BerthError('CONFIG_INVALID', `BERTH_PLATFORM_DB_CONTAINER must be 1-63 letters, digits, _ and - (no dot), got "${platformDbContainer.slice(0, 80)}"`);
  }
  const home = get('BERTH_HOME');
  // nginx's route control socket lives at <home>/nginx/control/control.sock,
  // and a unix socket's path has at most 107 bytes (sun_path).
  if (Buffer.byteLength(home) > 80) throw new BerthError('CONFIG_INVALID', `BERTH_HOME must be at most 80 bytes long (nginx's control socket lives under it), got ${Buffer.byteLength(home)}`);
  const baseDomain = get('BERTH_BASE_DOMAIN');
  const httpPort = int('BERTH_HTTP_PORT', 1, 65535);
  const tls = readTlsConfig({ get, optional, int }, baseDomain);
  const appPackage = JSON.parse(readFileSync(path.join(rootDir, 'tenant-app/package.json'), 'utf8')) as { version: string };
  return {
    rootDir,
    logLevel: env.BERTH_LOG_LEVEL || 'info',
    platformId: get('BERTH_PLATFORM_ID'),
    home,
    baseDomain,
    templatesDir: path.resolve(rootDir, get('BERTH_TEMPLATES_DIR')),
    images: {
      db: get('BERTH_IMAGE_DB'),
      storage: get('BERTH_IMAGE_STORAGE'),
      nodeBase: get('BERTH_IMAGE_NODE_BASE'),
      appRepo: get('BERTH_IMAGE_APP_REPO')
    },
    defaultAppVersion: env.BERTH_APP_VERSION ?? appPackage.version,
    dockerSocket: env.DOCKER_SOCKET ?? '/var/run/docker.sock',
    mailRelay: {
      smtpUrl,
      from: optional('BERTH_MAIL_FROM') || `Berth <no-reply@${get('BERTH_BASE_DOMAIN')}>`,
      port: int('BERTH_MAIL_RELAY_PORT', 1, 65535),
      perHour: int('BERTH_MAIL_RELAY_PER_HOUR', 1, 100_000)
    },
    api: { host: get('BERTH_API_HOST'), port: int('BERTH_API_PORT', 0, 65535) },
    mongoUrl: env.BERTH_MONGO_URL || undefined,
    mongoDb: get('BERTH_MONGO_DB'),
    platformDb: { container: platformDbContainer },
    platformKey,
    portRange,
    maxParallelOps: int('BERTH_MAX_PARALLEL_OPS', 1, 64),
    deadlines: { runtimeCallMs: int('BERTH_RUNTIME_CALL_TIMEOUT_MS', 100, 3_600_000), operationMs: int('BERTH_OPERATION_TIMEOUT_MS', 1000, 86_400_000) },
    health: { intervalMs: int('BERTH_HEALTH_INTERVAL_MS', 100, 3_600_000), failuresBeforeDegraded: int('BERTH_HEALTH_FAILURES', 1, 100) },
    start: { cpus: decimal('BERTH_START_CPUS', 0.01, 256), probeIntervalMs: int('BERTH_START_PROBE_INTERVAL_MS', 10, 60_000) },
    healing: {
      restartRetries: int('BERTH_RESTART_RETRIES', 0, 100),
      crashLoopRestarts: int('BERTH_CRASH_LOOP_RESTARTS', 1, 1000),
      crashLoopWindowMs: int('BERTH_CRASH_LOOP_WINDOW_MS', 1000, 86_400_000)
    },
    sleep: {
      intervalMs: int('BERTH_SLEEP_INTERVAL_MS', 100, 3_600_000),
      minAvailableBytes: int('BERTH_SLEEP_MIN_AVAILABLE_MB', 0, 10_000_000) * 1024 * 1024,
      pressureBatch: int('BERTH_SLEEP_PRESSURE_BATCH', 1, 1000)
    },
    wake: { port: int('BERTH_WAKE_PORT', 1, 65535), holdMs: int('BERTH_WAKE_HOLD_MS', 1000, 300_000) },
    capacity: {
      memoryReserveBytes: int('BERTH_CAPACITY_MEMORY_RESERVE_MB', 0, 10_000_000) * 1024 * 1024,
      diskReserveBytes: int('BERTH_CAPACITY_DISK_RESERVE_MB', 0, 100_000_000) * 1024 * 1024,
      diskPath: get('BERTH_CAPACITY_DISK_PATH')
    },
    backups: readBackupConfig(optional),
    reconcileIntervalMs: int('BERTH_RECONCILE_INTERVAL_MS', 100, 3_600_000),
    nginx: {
      bin: get('BERTH_NGINX_BIN'),
      prefix: path.join(home, 'nginx'),
      confFile: path.join(home, 'nginx/conf/nginx.conf'),
      controlSocket: path.join(home, 'nginx/control/control.sock'),
      tableFile: path.join(home, 'nginx/control/routes.table'),
      httpPort
    },
    consoleUrl: tls.mode === 'off' ? consoleUrl.replace(/\/+$/, '') : publicOrigin(tls, httpPort, tls.consoleHost),
    tls,
    terminal: { idleMs: int('BERTH_TERMINAL_IDLE_MS', 1000, 86_400_000) },
    stats: { intervalMs: int('BERTH_STATS_INTERVAL_MS', 1000, 3_600_000), concurrency: int('BERTH_STATS_CONCURRENCY', 1, 64) },
    storage: { maxAgeMs: int('BERTH_STORAGE_MAX_AGE_MS', 0, 86_400_000) },
    upgrades: { healthTimeoutMs: int('BERTH_UPGRADE_HEALTH_TIMEOUT_MS', 1000, 3_600_000), drainTimeoutMs: int('BERTH_UPGRADE_DRAIN_TIMEOUT_MS', 0, 3_600_000) },
    operatorSignIn: { perAddress: int('BERTH_OPERATOR_SIGNIN_PER_IP', 1, 100_000), windowMs: int('BERTH_OPERATOR_SIGNIN_WINDOW_S', 1, 86_400) * 1000 },
    ownerLinkTtlMs: int('BERTH_OWNER_LINK_TTL_DAYS', 1, 365) * 86_400_000,
    onboarding: readOnboardingConfig({ get, optional, int })
  };
}
