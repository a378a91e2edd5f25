// HTTP ↔ TokensService. Admin only: a token that can mint tokens can mint admin ones.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../api/schemas.js';
import type { Scope } from './auth.types.js';
import { created, createBody, idParam, tokenInfoSchema, tokenList } from './tokens.schema.js';
import type { TokensService } from './tokens.service.js';

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
      response: { 200: tokenList }
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
