// The onboarding API's shapes as the console uses them (orchestrator/src/onboarding/onboarding.schema.ts).

export interface ProgressEvent {
  seq: number;
  at: string;
  type: string;
  operation?: string;
  data: { kind?: string; step?: string; phase?: string; from?: string; to?: string; seconds?: number; code?: string };
}

export interface SignupStatus {
  step: 'code' | 'team' | 'provisioning' | 'ready' | 'failed' | 'locked';
  email: string;
  expiresAt: string;
  code?: { expiresAt: string; resendAt: string; sendsLeft: number; attemptsLeft: number };
  plans?: { name: string; description: string; default: boolean }[];
  /** The team's future address with "{slug}" in place of its slug. */
  address?: string;
  team?: {
    slug: string;
    displayName: string;
    plan: string;
    operationId: string;
    phase?: string;
    url?: string;
    events: ProgressEvent[];
    error?: { code: string; message: string };
    setupUrl?: string;
  };
}

export interface SlugCheck {
  slug: string;
  available: boolean;
  reason?: 'invalid' | 'reserved' | 'taken';
  message?: string;
  suggestion?: string;
}

export interface CapturedMail {
  id: string;
  at: string;
  subject: string;
  from: string;
  to: string;
  text: string;
  size: number;
  envelope: { from: string; to: string[] };
}

export interface CapturedMails {
  sink: { enabled: boolean; host?: string; port?: number };
  mails: CapturedMail[];
}

/** What the sign-up socket sends: a fresh status, or one step as it happens. */
export type SignupMessage = { type: 'snapshot'; signup: SignupStatus } | { type: 'event'; event: ProgressEvent };

/** GET /onboarding/quota: self-service teams made today against the daily cap. */
export interface OnboardingQuota {
  teamsToday: number;
  teamsPerDay: number;
  paused: boolean;
  /** When the count starts over (the next UTC day). */
  resumesAt: string;
}
