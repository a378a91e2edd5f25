// HTTP ↔ service for bulk upgrades: versions, preview, jobs and their actions.
// Live progress: the events of a job carry its id as `operation`
// (/api/v1/events?operation=<job id>): upgrade.created, upgrade.state, upgrade.tenant.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import * as S from './upgrades.schema.js';
import type { UpgradesService } from './upgrades.service.js';

type Refs = { references: [typeof S.jobSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

export const upgradesRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { upgrades: UpgradesService; appRepo: string } } & Provider> = async (app, { upgrades, appRepo }) => {
  app.addSchema(S.jobSchema);
  const tags = ['upgrades'];
  const job = { $ref: 'UpgradeJob#' } as const;

  app.get('/versions', {
    config: { scope: 'read' },
    schema: { tags, summary: 'Tenant-app versions on this host (image tags) and how many tenants run each', response: { 200: S.versionsResponse, ...errorResponses(...RUNTIME_CODES) } }
  }, async () => ({ repository: appRepo, versions: await upgrades.versions() }));

  app.post('/upgrades/preview', {
    config: { scope: 'read' },
    schema: { tags, summary: 'The tenants a job with this body would touch; starts nothing', body: S.createBody, response: { 200: S.previewResponse, ...errorResponses('VERSION_UNKNOWN', 'TENANT_NOT_FOUND', ...RUNTIME_CODES) } }
  }, async (req) => upgrades.preview(req.body));

  app.get('/upgrades', {
    config: { scope: 'read' },
    schema: { tags, querystring: S.listQuery, response: { 200: S.jobListReply } }
  }, async (req) => ({ jobs: await upgrades.list(req.query.limit) }));

  app.post('/upgrades', {
    config: { scope: 'write' },
    schema: { tags, summary: 'Start an upgrade job: canary first, then rolling', body: S.createBody, response: { 202: job, ...errorResponses('VERSION_UNKNOWN', 'UPGRADE_SELECTION_EMPTY', 'TENANT_NOT_FOUND', 'UPGRADE_CONFLICT', ...RUNTIME_CODES) } }
  }, async (req, reply) => reply.status(202).send(await upgrades.create(req.body, req.principal?.name)));

  app.get('/upgrades/:id', {
    config: { scope: 'read' },
    schema: { tags, params: S.idParam, response: { 200: job, ...errorResponses('UPGRADE_NOT_FOUND') } }
  }, async (req) => upgrades.get(req.params.id));

  app.post('/upgrades/:id/actions/:action', {
    config: { scope: 'write' },
    schema: { tags, summary: 'approve (the canary), pause, resume or cancel', params: S.actionParams, response: { 200: job, ...errorResponses('UPGRADE_NOT_FOUND', 'UPGRADE_CONFLICT') } }
  }, async (req) => upgrades.act(req.params.id, req.params.action));

  app.post('/upgrades/:id/rollback', {
    config: { scope: 'write' },
    schema: { tags, summary: 'A job returning the tenants this one upgraded to the versions they had', params: S.idParam, body: S.rollbackBody, response: { 202: job, ...errorResponses('UPGRADE_NOT_FOUND', 'UPGRADE_CONFLICT', 'UPGRADE_SELECTION_EMPTY', 'VERSION_UNKNOWN', 'TENANT_NOT_FOUND', ...RUNTIME_CODES) } }
  }, async (req, reply) => reply.status(202).send(await upgrades.rollback(req.params.id, req.body?.tenants, req.principal?.name)));
};
