// API tokens: what POST /tokens takes and what the API shows of a token (never its hash).
import type { FromSchema } from 'json-schema-to-ts';
import type { DatesAsDates } from '../api/schemas.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export const TOKEN_NAME_PATTERN = '^[A-Za-z0-9 ._-]{1,64}$';
export const TOKEN_ID_PATTERN = '^[0-9a-f]{12}$';

const tokenInfoProperties = {
  id: { type: 'string', pattern: TOKEN_ID_PATTERN },
  name: { type: 'string' },
  scope: { type: 'string', enum: SCOPES },
  createdAt: { type: 'string', format: 'date-time' },
  lastUsedAt: { type: 'string', format: 'date-time' },
  revokedAt: { type: 'string', format: 'date-time' }
} as const;

export const tokenInfoSchema = {
  $id: 'TokenInfo',
  type: 'object',
  additionalProperties: false,
  description: 'An API token without its secret: the secret is shown once, when the token is made.',
  required: ['id', 'name', 'scope', 'createdAt'],
  properties: tokenInfoProperties
} as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scope'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: TOKEN_NAME_PATTERN, description: '1-64 characters: letters, digits, space, ".", "_", "-"' },
    scope: { type: 'string', enum: SCOPES, description: 'read ⊂ write ⊂ admin' }
  }
} as const;

export const created = {
  type: 'object',
  description: 'The new token. `token` is shown only this once; store it now.',
  additionalProperties: false,
  required: ['token', 'id', 'name', 'scope', 'createdAt'],
  properties: { token: { type: 'string' }, ...tokenInfoProperties }
} as const;

export const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 12, maxLength: 12, pattern: TOKEN_ID_PATTERN } }
} as const;

export const tokenList = {
  type: 'object',
  additionalProperties: false,
  required: ['tokens'],
  properties: { tokens: { type: 'array', items: { $ref: 'TokenInfo#' } } }
} as const;

/** What the routes' serializer takes: TokenInfo by reference, and Dates. */
export type TokenSerializerOptions = DatesAsDates & { references: [typeof tokenInfoSchema] };

export type TokenInfoView = FromSchema<typeof tokenInfoSchema>;
/** A token as TokensService returns it: the view, with its dates as Dates. */
export type TokenInfo = FromSchema<typeof tokenInfoSchema, DatesAsDates>;
export type TokenList = FromSchema<typeof tokenList, { references: [typeof tokenInfoSchema] }>;
export type CreateTokenBody = FromSchema<typeof createBody>;
export type TokenCreated = FromSchema<typeof created>;
