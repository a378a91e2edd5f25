// One schema per payload of the onboarding API: validation, serialization,
// TS type and OpenAPI doc at once.
import { EMAIL_MAX } from '../formats.js';
import type { ProgressEvent } from './provisioning.js';

export interface SignupView {
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
    /** The owner's one-time link to choose a password, once the team runs. */
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

/** The browser's sign-up token, which the console sends on its behalf. */
export const SIGNUP_HEADER = 'x-berth-signup';

const str = { type: 'string' } as const;

const progressEventSchema = {
  type: 'object',
  required: ['seq', 'at', 'type', 'data'],
  properties: {
    seq: { type: 'number' },
    at: str,
    type: str,
    operation: str,
    data: {
      type: 'object',
      properties: { kind: str, step: str, phase: str, from: str, to: str, seconds: { type: 'number' }, code: str }
    }
  }
} as const;

export const signupSchema = {
  $id: 'Signup',
  type: 'object',
  required: ['step', 'email', 'expiresAt'],
  properties: {
    step: { type: 'string', enum: ['code', 'team', 'provisioning', 'ready', 'failed', 'locked'] },
    email: str,
    expiresAt: str,
    code: {
      type: 'object',
      properties: { expiresAt: str, resendAt: str, sendsLeft: { type: 'integer' }, attemptsLeft: { type: 'integer' } }
    },
    address: str,
    plans: {
      type: 'array',
      items: { type: 'object', properties: { name: str, description: str, default: { type: 'boolean' } } }
    },
    team: {
      type: 'object',
      properties: {
        slug: str, displayName: str, plan: str, operationId: str, phase: str, url: str, setupUrl: str,
        events: { type: 'array', items: progressEventSchema },
        error: { type: 'object', properties: { code: str, message: str } }
      }
    }
  }
} as const;

export const challengeResponse = {
  type: 'object',
  required: ['parameters', 'signature'],
  properties: {
    parameters: {
      type: 'object',
      additionalProperties: true,
      properties: {
        algorithm: str, nonce: str, salt: str, cost: { type: 'integer' }, keyLength: { type: 'integer' }, keyPrefix: str,
        expiresAt: { type: 'integer' }
      }
    },
    signature: str
  }
} as const;

export const startBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'captcha'],
  properties: {
    email: { type: 'string', format: 'email', maxLength: EMAIL_MAX },
    /** The ALTCHA widget's payload: base64 JSON {challenge, solution}. */
    captcha: { type: 'string', maxLength: 8192 }
  }
} as const;

export const verifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: { type: 'string', maxLength: 6, pattern: '^[0-9]{6}$' } }
} as const;

export const quotaResponse = {
  type: 'object',
  required: ['teamsToday', 'teamsPerDay', 'paused', 'resumesAt'],
  properties: { teamsToday: { type: 'integer' }, teamsPerDay: { type: 'integer' }, paused: { type: 'boolean' }, resumesAt: str }
} as const;

export const slugQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 128 }, slug: { type: 'string', maxLength: 64 } }
} as const;

export const slugResponse = {
  type: 'object',
  required: ['slug', 'available'],
  properties: { slug: str, available: { type: 'boolean' }, reason: str, message: str, suggestion: str }
} as const;

export const teamBody = {
  type: 'object',
  additionalProperties: false,
  required: ['displayName', 'slug', 'plan'],
  properties: {
    displayName: { type: 'string', minLength: 1, maxLength: 64 },
    slug: { type: 'string', minLength: 1, maxLength: 64 },
    plan: { type: 'string', minLength: 1, maxLength: 32 }
  }
} as const;

export const startResponse = {
  type: 'object',
  required: ['signup', 'status'],
  properties: {
    /** The sign-up token: the console keeps it in an HttpOnly cookie. */
    signup: str,
    status: { $ref: 'Signup#' }
  }
} as const;

export const mailsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }
} as const;

export const mailsResponse = {
  type: 'object',
  required: ['sink', 'mails'],
  properties: {
    sink: { type: 'object', properties: { enabled: { type: 'boolean' }, host: str, port: { type: 'integer' } } },
    mails: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: str, at: str, subject: str, from: str, to: str, text: str, size: { type: 'integer' }, raw: str,
          envelope: { type: 'object', properties: { from: str, to: { type: 'array', items: str } } }
        }
      }
    }
  }
} as const;
