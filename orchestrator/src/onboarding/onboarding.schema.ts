// One schema per payload of the onboarding API: validation, serialization,
// TS type and OpenAPI doc at once.
import { EMAIL_MAX } from '../formats.js';
import type { FromSchema } from 'json-schema-to-ts';

/** The browser's sign-up token, which the console sends on its behalf. */
export const SIGNUP_HEADER = 'x-berth-signup';

const str = { type: 'string' } as const;

/** One step of a sign-up's provisioning, as its page may see it (provisioning.ts). */
export const progressEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'at', 'type', 'data'],
  properties: {
    seq: { type: 'number' },
    at: str,
    type: str,
    operation: str,
    data: {
      type: 'object',
      additionalProperties: false,
      properties: { kind: str, step: str, phase: str, from: str, to: str, seconds: { type: 'number' }, code: str }
    }
  }
} as const;

export const signupSchema = {
  $id: 'Signup',
  type: 'object',
  additionalProperties: false,
  required: ['step', 'email', 'expiresAt'],
  properties: {
    step: { type: 'string', enum: ['code', 'team', 'provisioning', 'ready', 'failed', 'locked'] },
    email: str,
    expiresAt: str,
    code: {
      type: 'object',
      additionalProperties: false,
      required: ['expiresAt', 'resendAt', 'sendsLeft', 'attemptsLeft'],
      properties: { expiresAt: str, resendAt: str, sendsLeft: { type: 'integer' }, attemptsLeft: { type: 'integer' } }
    },
    address: { type: 'string', description: 'the team\'s future address with "{slug}" in place of its slug' },
    plans: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['name', 'description', 'default'], properties: { name: str, description: str, default: { type: 'boolean' } } }
    },
    team: {
      type: 'object',
      additionalProperties: false,
      required: ['slug', 'displayName', 'plan', 'operationId', 'events'],
      properties: {
        slug: str, displayName: str, plan: str, operationId: str, phase: str, url: str,
        setupUrl: { type: 'string', description: 'the owner\'s one-time link to choose a password, once the team runs' },
        events: { type: 'array', items: progressEventSchema },
        error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: str, message: str } }
      }
    }
  }
} as const;

export const challengeResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['parameters', 'signature'],
  properties: {
    // ALTCHA v2's ChallengeParameters, field by field: the widget needs each
    // one, and the type check fails here if altcha-lib adds another.
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['algorithm', 'nonce', 'salt', 'cost', 'keyLength', 'keyPrefix'],
      properties: {
        algorithm: str, nonce: str, salt: str, cost: { type: 'integer' }, keyLength: { type: 'integer' }, keyPrefix: str,
        keySignature: str, memoryCost: { type: 'integer' }, parallelism: { type: 'integer' }, expiresAt: { type: 'integer' },
        data: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }
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
  additionalProperties: false,
  description: 'self-service teams made today against the daily cap; resumesAt: when the count starts over (the next UTC day)',
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
  additionalProperties: false,
  required: ['slug', 'available'],
  properties: { slug: str, available: { type: 'boolean' }, reason: { type: 'string', enum: ['invalid', 'reserved', 'taken'] }, message: str, suggestion: str }
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
  additionalProperties: false,
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
  additionalProperties: false,
  required: ['sink', 'mails'],
  properties: {
    sink: { type: 'object', additionalProperties: false, required: ['enabled'], properties: { enabled: { type: 'boolean' }, host: str, port: { type: 'integer' } } },
    mails: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'at', 'subject', 'from', 'to', 'text', 'size', 'envelope'],
        properties: {
          id: str, at: str, subject: str, from: str, to: str, text: str, size: { type: 'integer' }, raw: str,
          envelope: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: str, to: { type: 'array', items: str } } }
        }
      }
    }
  }
} as const;

type SignupRefs = { references: [typeof signupSchema] };
export type SignupView = FromSchema<typeof signupSchema>;
export type ProgressEvent = FromSchema<typeof progressEventSchema>;
export type SlugCheck = FromSchema<typeof slugResponse>;
export type SlugQuery = FromSchema<typeof slugQuery>;
export type CaptchaChallenge = FromSchema<typeof challengeResponse>;
export type StartSignupBody = FromSchema<typeof startBody>;
export type StartSignupReply = FromSchema<typeof startResponse, SignupRefs>;
export type VerifyBody = FromSchema<typeof verifyBody>;
export type TeamBody = FromSchema<typeof teamBody>;
export type OnboardingQuota = FromSchema<typeof quotaResponse>;
export type CapturedMails = FromSchema<typeof mailsResponse>;
export type CapturedMailView = CapturedMails['mails'][number];
/** What the sign-up socket (/onboarding/signup/events) sends: a fresh status, or one step as it happens. */
export type SignupMessage = { type: 'snapshot'; signup: SignupView } | { type: 'event'; event: ProgressEvent };
