// One schema per payload: validation, serialization, TS type and OpenAPI doc.
import type { FromSchema } from 'json-schema-to-ts';
import { EMAIL_MAX, NOT_BLANK } from '../formats.js';

export const OPERATOR_STATUSES = ['pending', 'active', 'disabled'] as const;
export type OperatorStatus = (typeof OPERATOR_STATUSES)[number];

export const operatorSchema = {
  $id: 'Operator',
  type: 'object',
  additionalProperties: false,
  description: 'An operator of the console; never a password hash or TOTP secret.',
  required: ['id', 'email', 'name', 'status', 'createdAt'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: OPERATOR_STATUSES },
    createdAt: { type: 'string', format: 'date-time' },
    lockedUntil: { type: 'string', format: 'date-time', description: 'set while sign-in is locked after failures' }
  }
} as const;

const operatorBrief = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'name'],
  properties: { id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } }
} as const;

/** Password lengths (operators/passwords.ts checks the same before hashing). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 200;

const email = { type: 'string', minLength: 3, maxLength: EMAIL_MAX, format: 'email', description: 'local@domain; a domain without a dot (admin@localhost) is fine' } as const;
const setupToken = { type: 'string', minLength: 22, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' } as const;
const code = { type: 'string', minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$', description: 'six digits from the authenticator app' } as const;

export const setupStartBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: setupToken }
} as const;

export const setupStartReply = {
  type: 'object',
  additionalProperties: false,
  description: 'The TOTP secret to enrol (the same on every call with the same link, until it is used).',
  required: ['email', 'name', 'totpSecret', 'otpauthUrl', 'qrSvg'],
  properties: {
    email: { type: 'string' },
    name: { type: 'string' },
    totpSecret: { type: 'string', description: 'base32' },
    otpauthUrl: { type: 'string' },
    qrSvg: { type: 'string', description: 'the otpauth URL as an SVG QR code' }
  }
} as const;

export const setupFinishBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'password', 'code'],
  properties: { token: setupToken, password: { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX }, code }
} as const;

export const operatorReply = {
  type: 'object',
  additionalProperties: false,
  required: ['operator'],
  properties: { operator: { $ref: 'Operator#' } }
} as const;

export const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password', 'code'],
  properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX }, code }
} as const;

export const loginReply = {
  type: 'object',
  additionalProperties: false,
  description: '`session` is shown only this once: send it as "Authorization: Bearer <session>".',
  required: ['session', 'expiresAt', 'operator'],
  properties: { session: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, operator: operatorBrief }
} as const;

export const meReply = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'scope'],
  properties: {
    kind: { type: 'string', enum: ['token', 'operator'] },
    operator: operatorBrief,
    token: { type: 'object', additionalProperties: false, required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    scope: { type: 'string', enum: ['read', 'write', 'admin'] }
  }
} as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'name'],
  properties: { email, name: { type: 'string', minLength: 1, maxLength: 100, pattern: NOT_BLANK, description: 'not only spaces' } }
} as const;

export const createdReply = {
  type: 'object',
  additionalProperties: false,
  description: '`setupUrl` is the one-time link (24 h) the new operator enrols with; shown only now.',
  required: ['operator', 'setupUrl'],
  properties: { operator: { $ref: 'Operator#' }, setupUrl: { type: 'string' } }
} as const;

export const listReply = {
  type: 'object',
  additionalProperties: false,
  required: ['operators'],
  properties: { operators: { type: 'array', items: { $ref: 'Operator#' } } }
} as const;

export const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 16, maxLength: 16, pattern: '^[0-9a-f]{16}$' } }
} as const;

type OperatorRefs = { references: [typeof operatorSchema] };
export type OperatorView = FromSchema<typeof operatorSchema>;
/** Who a session belongs to, as /auth/login and /auth/me show it. */
export type OperatorBrief = FromSchema<typeof operatorBrief>;
export type OperatorReply = FromSchema<typeof operatorReply, OperatorRefs>;
export type OperatorList = FromSchema<typeof listReply, OperatorRefs>;
export type CreateOperatorBody = FromSchema<typeof createBody>;
export type OperatorCreated = FromSchema<typeof createdReply, OperatorRefs>;
export type SetupStartBody = FromSchema<typeof setupStartBody>;
export type SetupStartReply = FromSchema<typeof setupStartReply>;
export type SetupFinishBody = FromSchema<typeof setupFinishBody>;
export type LoginBody = FromSchema<typeof loginBody>;
export type LoginReply = FromSchema<typeof loginReply>;
export type MeReply = FromSchema<typeof meReply>;
