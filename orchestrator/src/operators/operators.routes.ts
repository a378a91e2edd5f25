// HTTP ↔ operator services: enrolment and sign-in (public), sign-out and
// "who am I" (any principal), managing operators (admin).
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientKey } from '../api/client-address.js';
import { limit } from '../api/rate-limit.js';
import { errorResponses } from '../api/schemas.js';
import { BerthError } from '../errors.js';
import type { SignInLimit } from './operators.module.js';
import type { OperatorsService } from './operators.service.js';
import * as S from './operators.schema.js';
import { isSessionToken } from './sessions.service.js';
import type { SignInService } from './sign-in.service.js';

export interface OperatorsRoutesOptions {
  operators: OperatorsService;
  signIn: SignInService;
  signInLimit: SignInLimit;
}

/** Who asked, for createdBy: an operator id, or the API token. */
function actorOf(req: FastifyRequest): string {
  const p = req.principal;
  return p?.kind === 'operator' ? p.operatorId : `token:${p?.tokenId ?? 'unknown'}`;
}

type Refs = { references: [typeof S.operatorSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

export const operatorsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: OperatorsRoutesOptions } & Provider> = async (app, { operators, signIn, signInLimit }) => {
  app.addSchema(S.operatorSchema);
  await app.register(rateLimit, { global: false });
  // Every attempt counts, right or wrong: each costs the server a password
  // hash, and guessing from one address must stay slow whatever it guesses.
  const perAddress = limit(app.createRateLimit({
    max: signInLimit.perAddress,
    timeWindow: signInLimit.windowMs,
    keyGenerator: (req) => `signin:${clientKey(req, signInLimit.trustedProxies)}`
  }), 'sign-in attempts from your address');
  const auth = ['auth'];
  const tags = ['operators'];

  app.post('/auth/setup/start', {
    config: { scope: 'public' },
    schema: { tags: auth, summary: 'Open a setup link: the TOTP secret to enrol', body: S.setupStartBody, response: { 200: S.setupStartReply, ...errorResponses('SETUP_TOKEN_INVALID') } }
  }, async (req) => operators.setupStart(req.body.token));

  app.post('/auth/setup/finish', {
    config: { scope: 'public' },
    schema: { tags: auth, summary: 'Finish enrolment: password and a first code', body: S.setupFinishBody, response: { 200: S.operatorReply, ...errorResponses('SETUP_TOKEN_INVALID', 'TOTP_INVALID') } }
  }, async (req) => ({ operator: await operators.setupFinish(req.body) }));

  app.post('/auth/login', {
    config: { scope: 'public' },
    onRequest: perAddress,
    schema: { tags: auth, summary: 'Sign in: email, password and TOTP code → a new session', body: S.loginBody, response: { 200: S.loginReply, ...errorResponses('INVALID_CREDENTIALS', 'TOTP_REPLAYED', 'ACCOUNT_LOCKED', 'RATE_LIMITED') } }
  }, async (req) => {
    // ACCOUNT_LOCKED carries retryAfterSeconds: the error handler answers it as Retry-After.
    const signedIn = await signIn.signIn(req.body);
    return { ...signedIn, expiresAt: signedIn.expiresAt.toISOString() };
  });

  app.post('/auth/logout', {
    config: { scope: 'read' },
    schema: { tags: auth, summary: 'Sign out: ends this console session', response: { 204: { type: 'null', description: 'signed out' }, ...errorResponses('FORBIDDEN') } }
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
    if (req.principal?.kind !== 'operator' || !token || !isSessionToken(token)) {
      throw new BerthError('FORBIDDEN', 'sign-out ends a console session; API tokens are revoked with DELETE /api/v1/tokens/:id');
    }
    await signIn.signOut(token);
    return reply.status(204).send();
  });

  app.get('/auth/me', {
    config: { scope: 'read' },
    schema: { tags: auth, summary: 'Who the request is signed in as', response: { 200: S.meReply } }
  }, async (req) => {
    const p = req.principal!;
    if (p.kind === 'operator') {
      const { id, email, name } = await operators.get(p.operatorId);
      return { kind: 'operator' as const, operator: { id, email, name }, scope: p.scope };
    }
    return { kind: 'token' as const, token: { id: p.tokenId, name: p.name }, scope: p.scope };
  });

  app.get('/operators', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'List operators', response: { 200: S.listReply } }
  }, async () => ({ operators: await operators.list() }));

  app.post('/operators', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Add an operator: returns their one-time setup link', body: S.createBody, response: { 201: S.createdReply, ...errorResponses('OPERATOR_EXISTS') } }
  }, async (req, reply) => reply.status(201).send(await operators.create(req.body, actorOf(req))));

  app.post('/operators/:id/disable', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Disable an operator and end their sessions', params: S.idParam, response: { 200: S.operatorReply, ...errorResponses('OPERATOR_NOT_FOUND', 'OPERATOR_CONFLICT') } }
  }, async (req) => {
    const p = req.principal;
    return { operator: await operators.disable(req.params.id, p?.kind === 'operator' ? p.operatorId : undefined) };
  });

  app.post('/operators/:id/reset', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Reset an operator: new setup link; password, TOTP and sessions cleared', params: S.idParam, response: { 200: S.createdReply, ...errorResponses('OPERATOR_NOT_FOUND') } }
  }, async (req) => operators.reset(req.params.id));
};
