// HTTP ↔ the sign-up flow, all public (no operator token): the sign-up is
// authorised by its own token in the X-Berth-Signup header, which the console
// sends from its HttpOnly cookie. Rate limits (@fastify/rate-limit, in memory)
// per client address on every call and, for calls that mail a code, per
// address and per email; 429 with Retry-After. An address counts by its /64
// when it is IPv6, an email without its +tag (api/client-address.ts,
// email-key.ts).
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import type { OnboardingConfig } from '../config/onboarding.config.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Captcha } from './captcha.js';
import { clientKey } from '../api/client-address.js';
import { limit } from '../api/rate-limit.js';
import { emailLimitKey } from './email-key.js';
import type { OnboardingService } from './onboarding.service.js';
import * as S from './onboarding.schema.js';
import { progressEvent } from './provisioning.js';

export interface OnboardingRoutesOptions {
  service: OnboardingService;
  captcha: Captcha;
  events: EventBus;
  config: OnboardingConfig;
}

const signupToken = (request: FastifyRequest): string | undefined => {
  const value = request.headers[S.SIGNUP_HEADER];
  return typeof value === 'string' ? value : undefined;
};

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

type Refs = { references: [typeof S.signupSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

export const onboardingRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: OnboardingRoutesOptions } & Provider> = async (app, { service, captcha, events, config }) => {
  app.addSchema(S.signupSchema);
  await app.register(rateLimit, { global: false });
  const ip = (request: FastifyRequest) => clientKey(request, config.trustedProxies);
  const window = { timeWindow: config.rate.windowMs };
  const perIp = limit(app.createRateLimit({ ...window, max: config.rate.requestsPerIp, keyGenerator: ip }), 'sign-up requests from your address');
  const mailPerIp = limit(app.createRateLimit({ ...window, max: config.rate.mailPerIp, keyGenerator: ip }), 'codes asked for from your address');
  const mailPerEmail = limit(app.createRateLimit({
    ...window,
    max: config.rate.mailPerEmail,
    keyGenerator: (request) => `email:${emailLimitKey(String((request.body as { email?: string } | undefined)?.email ?? ''))}`
  }), 'codes asked for this email address');

  app.addHook('onRequest', async () => {
    if (!config.enabled) throw new BerthError('ONBOARDING_DISABLED', 'sign-ups are turned off on this platform; ask its operators for a team');
  });
  app.addHook('onRequest', perIp);

  const tags = ['onboarding'];
  const publicRoute = { scope: 'public' as const };
  // No operator token; the sign-up's own token in its header (platform/app.ts: the "signup" scheme).
  const bySignup = [{ signup: [] }];
  // Every route here: the two onRequest hooks above, then what the sign-up token opens.
  const refusals = (...codes: Parameters<typeof errorResponses>) => errorResponses('ONBOARDING_DISABLED', 'RATE_LIMITED', ...codes);
  const ofSignup = ['SIGNUP_UNKNOWN', 'SIGNUP_LOCKED', 'SIGNUP_STEP'] as const;
  const teamCodes = ['PLAN_UNKNOWN', 'SLUG_INVALID', 'SLUG_RESERVED', 'SLUG_TAKEN', 'PORT_EXHAUSTED', 'CAPACITY', ...RUNTIME_CODES] as const;

  app.get('/onboarding/captcha', {
    config: publicRoute,
    schema: { tags, summary: 'A signed, expiring ALTCHA proof-of-work challenge', response: { 200: S.challengeResponse, ...refusals() } }
  }, async (_request, reply) => reply.header('cache-control', 'no-store').send(await captcha.challenge()));

  app.post('/onboarding/signups', {
    config: publicRoute,
    onRequest: mailPerIp,
    preHandler: mailPerEmail,
    schema: { tags, summary: 'Start a sign-up: mails a 6-digit code (the same answer whether or not the address is known)', body: S.startBody, response: { 201: S.startResponse, ...refusals('SIGNUPS_PAUSED', 'CAPTCHA_INVALID', 'SIGNUP_LIMIT', 'MAIL_FAILED') } }
  }, async (request, reply) => {
    const { token, signup } = await service.start({ email: request.body.email, captcha: request.body.captcha, ip: ip(request) });
    return reply.status(201).header('cache-control', 'no-store').send({ signup: token, status: signup });
  });

  app.get('/onboarding/signup', {
    config: publicRoute,
    schema: { tags, summary: 'Where this sign-up stands', security: bySignup, querystring: noQuery, response: { 200: { $ref: 'Signup#' }, ...refusals('SIGNUP_UNKNOWN') } }
  }, async (request) => service.status(signupToken(request)));

  app.post('/onboarding/signup/resend', {
    config: publicRoute,
    onRequest: mailPerIp,
    schema: { tags, summary: 'Mail a new code (throttled)', security: bySignup, response: { 200: { $ref: 'Signup#' }, ...refusals(...ofSignup, 'RESEND_TOO_SOON', 'MAIL_FAILED') } }
  }, async (request) => service.resend(signupToken(request)));

  app.post('/onboarding/signup/verify', {
    config: publicRoute,
    schema: { tags, summary: 'Check the code from the mail', security: bySignup, body: S.verifyBody, response: { 200: { $ref: 'Signup#' }, ...refusals(...ofSignup, 'CODE_INVALID', 'CODE_EXPIRED') } }
  }, async (request) => service.verify(signupToken(request), request.body.code));

  app.get('/onboarding/signup/slug', {
    config: publicRoute,
    schema: { tags, summary: 'Suggest a slug from a name, or check one: free, or why not in words', security: bySignup, querystring: S.slugQuery, response: { 200: S.slugResponse, ...refusals(...ofSignup, ...RUNTIME_CODES) } }
  }, async (request) => service.checkSlug(signupToken(request), request.query));

  app.post('/onboarding/signup/team', {
    config: publicRoute,
    schema: { tags, summary: 'Create the team: provisioning starts and goes on without the page', security: bySignup, body: S.teamBody, response: { 202: { $ref: 'Signup#' }, ...refusals(...ofSignup, 'SIGNUPS_PAUSED', ...teamCodes) } }
  }, async (request, reply) => reply.status(202).send(await service.createTeam(signupToken(request), request.body)));

  app.post('/onboarding/signup/retry', {
    config: publicRoute,
    schema: { tags, summary: 'After a failed provisioning: remove what is left of it and create the team again', security: bySignup, response: { 202: { $ref: 'Signup#' }, ...refusals(...ofSignup, 'OPERATION_CONFLICT', ...teamCodes) } }
  }, async (request, reply) => reply.status(202).send(await service.retry(signupToken(request))));

  // Only this sign-up's own team: the tenant comes from the sign-up record,
  // never from the client (which may send no query at all).
  const scopes = new WeakMap<FastifyRequest, string>();
  app.get('/onboarding/signup/events', {
    config: publicRoute,
    websocket: true,
    schema: { tags, summary: 'WebSocket: a snapshot, then every step of this sign-up\'s provisioning', querystring: noQuery },
    preHandler: async (request) => void scopes.set(request, await service.eventsScope(signupToken(request)))
  }, (socket, request) => {
    const slug = scopes.get(request)!;
    const token = signupToken(request);
    let open = true;
    const snapshot = () => service.status(token).then(
      (signup) => open && socket.send(JSON.stringify({ type: 'snapshot', signup })),
      (err: Error) => open && socket.close(err instanceof BerthError && err.status < 500 ? 4000 + err.status : 1011, err instanceof BerthError ? err.code : 'INTERNAL')
    );
    const unsubscribe = events.subscribe((e) => {
      if (e.tenant !== slug) return;
      const shown = progressEvent(e);
      if (!shown || !open) return;
      socket.send(JSON.stringify({ type: 'event', event: shown }));
      if (e.type === 'operation.succeeded' || e.type === 'operation.failed') void snapshot();
    });
    socket.on('close', () => {
      open = false;
      unsubscribe();
    });
    void snapshot();
  });
};
