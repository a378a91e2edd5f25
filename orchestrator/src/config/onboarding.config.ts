// The onboarding wizard's settings (BERTH_ONBOARDING_*), validated with the
// rest of the platform configuration in config.ts: limits, code lifetimes,
// captcha difficulty, and where its mail goes.
import { BerthError } from '../errors.js';

export interface OnboardingConfig {
  /** false: every public onboarding endpoint answers 403 ONBOARDING_DISABLED. */
  enabled: boolean;
  /** smtp:// or smtps:// URL (host, port, TLS, auth); undefined: a local SMTP sink captures the mail. */
  smtpUrl?: string;
  mailFrom: string;
  /** One send may take this long, connecting included. */
  mailTimeoutMs: number;
  sink: { port: number; keep: number };
  code: { ttlMs: number; attempts: number; resendIntervalMs: number; sends: number };
  signupTtlMs: number;
  /** Sign-ups started per client address and per email, and self-service teams made platform-wide, per day. */
  perDay: { ip: number; email: number; teams: number };
  rate: { windowMs: number; mailPerIp: number; mailPerEmail: number; requestsPerIp: number };
  /** Peers whose X-Forwarded-For names the client (the console, on the same host); operator sign-in believes the same ones. */
  trustedProxies: string[];
  captcha: { cost: number; maxCounter: number; ttlMs: number };
}

interface Read {
  get(name: string): string;
  optional(name: string): string;
  int(name: string, min: number, max: number): number;
}

export function readOnboardingConfig({ get, optional, int }: Read): OnboardingConfig {
  const enabled = get('BERTH_ONBOARDING_ENABLED');
  if (enabled !== 'true' && enabled !== 'false') {
    throw new BerthError('CONFIG_INVALID', `BERTH_ONBOARDING_ENABLED must be true or false, got "${enabled}"`);
  }
  const smtpUrl = optional('BERTH_ONBOARDING_SMTP_URL');
  if (smtpUrl && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) {
    throw new BerthError('CONFIG_INVALID', 'BERTH_ONBOARDING_SMTP_URL must look like smtp://user:pass@host:587 (STARTTLS when offered; add ?requireTLS=true to insist) or smtps://user:pass@host:465 (TLS)');
  }
  const mailFrom = get('BERTH_ONBOARDING_MAIL_FROM');
  if (!/@[^\s@>]+>?$/.test(mailFrom)) {
    throw new BerthError('CONFIG_INVALID', `BERTH_ONBOARDING_MAIL_FROM must be an address like "Berth <no-reply@example.com>", got "${mailFrom}"`);
  }
  const seconds = (name: string, min: number, max: number) => int(name, min, max) * 1000;
  const trustedProxies = optional('BERTH_ONBOARDING_TRUSTED_PROXIES').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    enabled: enabled === 'true',
    smtpUrl: smtpUrl || undefined,
    mailFrom,
    mailTimeoutMs: int('BERTH_ONBOARDING_SMTP_TIMEOUT_MS', 500, 120_000),
    sink: { port: int('BERTH_ONBOARDING_SINK_PORT', 0, 65535), keep: int('BERTH_ONBOARDING_SINK_KEEP', 1, 10_000) },
    code: {
      ttlMs: seconds('BERTH_ONBOARDING_CODE_TTL_S', 30, 86_400),
      attempts: int('BERTH_ONBOARDING_CODE_ATTEMPTS', 1, 20),
      resendIntervalMs: seconds('BERTH_ONBOARDING_RESEND_INTERVAL_S', 0, 3600),
      sends: int('BERTH_ONBOARDING_CODE_SENDS', 1, 20)
    },
    signupTtlMs: seconds('BERTH_ONBOARDING_SIGNUP_TTL_S', 600, 30 * 86_400),
    perDay: {
      ip: int('BERTH_ONBOARDING_SIGNUPS_PER_IP_DAY', 1, 100_000),
      email: int('BERTH_ONBOARDING_SIGNUPS_PER_EMAIL_DAY', 1, 1000),
      // 0 pauses self-service sign-ups altogether.
      teams: int('BERTH_ONBOARDING_TEAMS_PER_DAY', 0, 1_000_000)
    },
    rate: {
      windowMs: seconds('BERTH_ONBOARDING_RATE_WINDOW_S', 1, 86_400),
      mailPerIp: int('BERTH_ONBOARDING_MAIL_PER_IP', 1, 100_000),
      mailPerEmail: int('BERTH_ONBOARDING_MAIL_PER_EMAIL', 1, 1000),
      requestsPerIp: int('BERTH_ONBOARDING_REQUESTS_PER_IP', 1, 100_000)
    },
    trustedProxies,
    captcha: {
      cost: int('BERTH_ONBOARDING_CAPTCHA_COST', 1, 1_000_000),
      maxCounter: int('BERTH_ONBOARDING_CAPTCHA_MAX_COUNTER', 2, 10_000_000),
      ttlMs: seconds('BERTH_ONBOARDING_CAPTCHA_TTL_S', 30, 86_400)
    }
  };
}
