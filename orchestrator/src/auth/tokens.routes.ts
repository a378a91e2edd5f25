// HTTP ↔ TokensService. Admin only: a token that can mint tokens can mint admin ones.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses } from '../api/schemas.js';
import { created, createBody, idParam, tokenInfoSchema, tokenList, type TokenSerializerOptions } from './tokens.schema.js';
import type { TokensService } from './tokens.service.js';

export const tokensRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { tokens: TokensService }; SerializerSchemaOptions: TokenSerializerOptions }> = async (app, { tokens }) => {
  app.addSchema(tokenInfoSchema);
  const tags = ['tokens'];

  app.post('/tokens', {
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

  app.delete('/tokens/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Revoke an API token', params: idParam, response: { 204: { type: 'null', description: 'revoked' }, ...errorResponses('TOKEN_NOT_FOUND') } }
  }, async (req, reply) => {
    await tokens.revoke(req.params.id);
    // No payload: fastify sends the empty 204 when the handler returns nothing
    // (a bare send() does not type-check: the provider types this body as null).
    reply.status(204);
  });
};
