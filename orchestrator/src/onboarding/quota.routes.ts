// Operators see where the platform-wide daily cap on self-service teams
// stands (the console's dashboard shows a notice while sign-ups are paused).
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { OnboardingService } from './onboarding.service.js';
import * as S from './onboarding.schema.js';

export const quotaRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { service: OnboardingService } }> = async (app, { service }) => {
  app.get('/onboarding/quota', {
    config: { scope: 'read' },
    schema: { tags: ['onboarding'], summary: 'Self-service teams made today against BERTH_ONBOARDING_TEAMS_PER_DAY; paused once reached', response: { 200: S.quotaResponse } }
  }, async () => service.quotaToday());
};
