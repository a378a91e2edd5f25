// HTTP ↔ TokensService. Admin only: a token that can mint tokens can mint admin ones.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../api/schemas.js';
import { SCOPES, type Scope } from './auth.types.js';
import { TOKEN_ID_PATTERN, TOKEN_NAME_PATTERN, type TokensService } from './tokens.service.js';

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
  description: 'An API token without its secret: the secret is shown once, when the token is made.',
  required: ['id', 'name', 'scope', 'createdAt'],
  properties: tokenInfoProperties
} as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scope'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: TOKEN_NAME_PATTERN, description: '1-64 characters: letters, digits, space, ".", "_", "-"' },
    scope: { type: 'string', enum: SCOPES, description: 'read ⊂ write ⊂ admin' }
  }
} as const;

const created = {
  type: 'object',
  description: 'The new token. `token` is shown only this once; store it now.',
  required: ['token', 'id', 'name', 'scope', 'createdAt'],
  properties: { token: { type: 'string' }, ...tokenInfoProperties }
} as const;

const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 12, maxLength: 12, pattern: TOKEN_ID_PATTERN } }
} as const;

export const tokensRoutes: FastifyPluginAsync<{ tokens: TokensService }> = async (app, { tokens }) => {
  app.addSchema(tokenInfoSchema);
  const tags = ['tokens'];

  app.post<{ Body: { name: string; scope: Scope } }>('/tokens', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Make an API token', body: createBody, response: { 201: created } }
  }, async (req, reply) => {
    const { token, info } = await tokens.create(req.body);
    return reply.status(201).send({ token, ...info });
  });

  app.get('/tokens', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'List API tokens (never their secrets)',
      response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: { $ref: 'TokenInfo#' } } } } }
    }
  }, async () => ({ tokens: await tokens.list() }));

  app.delete<{ Params: { id: string } }>('/tokens/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Revoke an API token', params: idParam, response: { 204: { type: 'null', description: 'revoked' }, ...errorResponses('TOKEN_NOT_FOUND') } }
  }, async (req, reply) => {
    await tokens.revoke(req.params.id);
    return reply.status(204).send();
  });
};
