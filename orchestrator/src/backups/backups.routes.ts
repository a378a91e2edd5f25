// HTTP ↔ backup service: a team's backups (take, list, show, delete, preview
// and run a restore, download), and every team's at a glance. Progress is the
// operation's events (backup, restore or create), as for every command.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import type { BackupService } from './backups.service.js';
import * as S from './backups.schema.js';

type Provider = { ValidatorSchemaOptions: { references: S.BackupRefs }; SerializerSchemaOptions: { references: S.BackupRefs } };

export const backupsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { backups: BackupService } } & Provider> = async (app, { backups }) => {
  app.addSchema(S.backupSchema);
  const tags = ['backups'];

  app.get('/backups', {
    config: { scope: 'read' },
    schema: { tags, summary: 'Every team with backups or a schedule: its last success, last failure, and whether it is overdue', response: { 200: S.backupOverviewSchema } }
  }, async () => backups.overview());

  app.get('/tenants/:slug/backups', {
    config: { scope: 'read' },
    schema: { tags, summary: "A team's backups, newest first (a deleted team's are kept)", params: S.slugParam, response: { 200: S.backupListSchema } }
  }, async (req) => ({ backups: await backups.list(req.params.slug) }));

  app.post('/tenants/:slug/backups', {
    config: { scope: 'write' },
    schema: {
      tags,
      summary: 'Take a backup now (a backup operation: the team keeps serving; its database and storage are frozen for the copy)',
      params: S.slugParam,
      response: { 202: S.createBackupReply, ...errorResponses('TENANT_NOT_FOUND', 'OPERATION_CONFLICT', ...RUNTIME_CODES) }
    }
  }, async (req, reply) => {
    const { backup, operation } = await backups.create(req.params.slug, 'manual');
    return reply.status(202).send({ backup, operation });
  });

  app.get('/tenants/:slug/backups/:id', {
    config: { scope: 'read' },
    schema: { tags, params: S.backupParams, response: { 200: { $ref: 'Backup#' }, ...errorResponses('BACKUP_NOT_FOUND') } }
  }, async (req) => backups.get(req.params.slug, req.params.id));

  app.delete('/tenants/:slug/backups/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Delete a backup: its files, then its record', params: S.backupParams, response: { 204: { type: 'null' }, ...errorResponses('BACKUP_NOT_FOUND', 'BACKUP_INCOMPLETE', 'BACKUP_FAILED') } }
  }, async (req, reply) => {
    await backups.delete(req.params.slug, req.params.id);
    return reply.status(204).send(null);
  });

  app.get('/tenants/:slug/backups/:id/preview', {
    config: { scope: 'read' },
    schema: {
      tags,
      summary: 'What restoring this backup would do (into the team itself, or with into= a new team); changes nothing',
      params: S.backupParams,
      querystring: S.restoreQuery,
      response: { 200: S.restorePreviewSchema, ...errorResponses('BACKUP_NOT_FOUND', 'BACKUP_INCOMPLETE', 'BACKUP_CORRUPT', 'BACKUP_FAILED', 'TENANT_EXISTS', ...RUNTIME_CODES) }
    }
  }, async (req) => backups.preview(req.params.slug, req.params.id, req.query.into));

  app.post('/tenants/:slug/backups/:id/restore', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Restore this backup: over its team (confirm=<slug>; a pre-restore backup is taken first), into a new team (into=<slug>), or the deleted team made again',
      params: S.backupParams,
      body: S.restoreBody,
      response: { 202: S.restoreReply, ...errorResponses('BACKUP_NOT_FOUND', 'BACKUP_INCOMPLETE', 'BACKUP_CORRUPT', 'BACKUP_FAILED', 'CONFIRMATION_REQUIRED', 'TENANT_EXISTS', 'OPERATION_CONFLICT', 'VERSION_UNKNOWN', 'CAPACITY', 'SLUG_INVALID', 'SLUG_RESERVED', ...RUNTIME_CODES) }
    }
  }, async (req, reply) => {
    const { tenant, operation } = await backups.restore(req.params.slug, req.params.id, req.body ?? {});
    return reply.status(202).send({ tenant, operation });
  });

  app.get('/tenants/:slug/backups/:id/download', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: "The backup opened: a tar of its manifest and each volume's files (checked as they stream; operators only)",
      params: S.backupParams,
      response: {
        200: { description: 'application/x-tar: <slug>-<id>/manifest.json and <slug>-<id>/<volume>.tar', content: { 'application/x-tar': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses('BACKUP_NOT_FOUND', 'BACKUP_INCOMPLETE', 'BACKUP_CORRUPT', 'BACKUP_FAILED')
      }
    }
  }, async (req, reply) => {
    const stream = await backups.download(req.params.slug, req.params.id);
    // Streamed as it is checked: a damaged file cuts the download off (the
    // client sees a short tar, never a complete-looking damaged one).
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'application/x-tar',
      'content-disposition': `attachment; filename="${req.params.slug}-${req.params.id}.tar"`,
      'cache-control': 'no-store'
    });
    stream.on('error', (err: Error) => {
      req.log.warn({ err: err.message }, 'backup download cut off');
      reply.raw.destroy(err);
    });
    stream.pipe(reply.raw);
  });
};
