// Operators read what the development mail sink captured (sign-up codes
// among them, so admin only). With a real SMTP server configured there is no
// sink and the list is empty; the answer says so.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { CapturedMailsRepository } from './captured-mails.repository.js';
import type { MailSink } from './mail-sink.js';
import * as S from './onboarding.schema.js';

export const mailsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { mails: CapturedMailsRepository; sink?: MailSink } }> = async (app, { mails, sink }) => {
  app.get('/onboarding/mails', {
    config: { scope: 'admin' },
    schema: { tags: ['onboarding'], summary: 'Mails the development SMTP sink captured, newest first', querystring: S.mailsQuery, response: { 200: S.mailsResponse } }
  }, async (request, reply) => {
    const sinkInfo = sink ? { enabled: true, host: '127.0.0.1', port: sink.port } : { enabled: false };
    return reply.header('cache-control', 'no-store').send({ sink: sinkInfo, mails: sink ? await mails.list(request.query.limit) : [] });
  });
};
