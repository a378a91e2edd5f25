// HTTP ↔ service, nothing more: tenants CRUD, actions, owner links, history
// and logs (with one-time links and other credentials blanked out).
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { redactLogLine } from './log-redact.js';
import type { TenantLogs } from './tenant-logs.js';
import type { TenantViews } from './tenant-views.js';
import type { TenantsService } from './tenants.service.js';
import * as S from './tenants.schema.js';
import { sleepActionQuery, sleepSettingBody } from './sleep.schema.js';

export interface TenantsRoutesOptions {
  tenants: TenantsService;
  views: TenantViews;
  logs: TenantLogs;
  events: EventBus;
  /** The loaded templates: their names, plans and services are what the schemas allow. */
  templates: Map<string, LoadedTemplate>;
}

// Request and reply types come from the schemas; `$ref: 'Tenant#'` resolves to the tenant schema.
type Provider = { ValidatorSchemaOptions: { references: S.TenantRefs }; SerializerSchemaOptions: { references: S.TenantRefs } };

export const tenantsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: TenantsRoutesOptions } & Provider> = async (app, { tenants, views, logs, events, templates }) => {
  app.addSchema(S.tenantSchema);
  const tags = ['tenants'];
  const logsQuery = S.logsQuery(templates);

  app.get('/tenants', {
    config: { scope: 'read' },
    schema: { tags, querystring: S.listQuery, response: { 200: S.listReply, ...errorResponses(...RUNTIME_CODES) } }
  }, async (req, reply) => {
    // The route's own serializer (its response schema) makes the kept text,
    // and this reply's serializer hands it out; the payload is still the
    // object, for the hooks that see it before serialization.
    const serialize = reply.getSerializationFunction('200')!;
    const { tenants, json } = await views.listCached({ phase: req.query.phase }, (list) => serialize({ tenants: list }));
    reply.type('application/json; charset=utf-8').serializer(() => json);
    return { tenants };
  });

  app.post('/tenants', {
    config: { scope: 'write' },
    schema: {
      tags,
      body: S.createBody(templates),
      response: { 202: S.accepted, ...errorResponses('PLAN_UNKNOWN', 'TENANT_EXISTS', 'TENANT_DATA_EXISTS', 'PORT_EXHAUSTED', 'CAPACITY', ...RUNTIME_CODES) }
    }
  }, async (req, reply) => reply.status(202).send(await tenants.create(req.body)));

  app.get('/tenants/:slug', {
    config: { scope: 'read' },
    schema: { tags, params: S.slugParam, response: { 200: { $ref: 'Tenant#' }, ...errorResponses('TENANT_NOT_FOUND', ...RUNTIME_CODES) } }
  }, async (req) => views.get(req.params.slug, { measureStorage: true }));

  app.post('/tenants/:slug/actions/:action', {
    config: { scope: 'write' },
    schema: { tags, params: S.actionParams, querystring: sleepActionQuery, response: { 202: S.accepted, ...errorResponses('TENANT_NOT_FOUND', 'OPERATION_CONFLICT', 'CAPACITY') } }
  }, async (req, reply) => {
    const { slug, action } = req.params;
    return reply.status(202).send(await (action === 'sleep' ? tenants.sleep(slug, { stop: req.query.stop }) : tenants[action](slug)));
  });

  app.put('/tenants/:slug/sleep', {
    config: { scope: 'write' },
    schema: {
      tags,
      summary: "Set the team's own sleep times (idle this long: frozen, then stopped) over its plan's",
      params: S.slugParam,
      body: sleepSettingBody,
      response: { 200: { $ref: 'Tenant#' }, ...errorResponses('TENANT_NOT_FOUND') }
    }
  }, async (req) => tenants.setSleepTimes(req.params.slug, req.body));

  app.delete('/tenants/:slug', {
    config: { scope: 'write' },
    schema: {
      tags,
      description: 'Deletes the tenant; its volumes are kept unless deleteData=true and confirm repeats the slug.',
      params: S.slugParam,
      querystring: S.deleteQuery,
      response: { 202: S.accepted, ...errorResponses('CONFIRMATION_REQUIRED', 'TENANT_NOT_FOUND', 'OPERATION_CONFLICT') }
    }
  }, async (req, reply) => reply.status(202).send(await tenants.delete(req.params.slug, req.query)));

  // The link hands the team over: admins only, and never logged.
  app.post('/tenants/:slug/owner-link', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Issue a new one-time owner setup link (the old one stops working; the app is recreated with it, a stopped team gets it when started)',
      params: S.slugParam,
      response: { 202: S.ownerLinkReply, ...errorResponses('TENANT_NOT_FOUND', 'TEMPLATE_NOT_FOUND', 'OWNER_UNKNOWN', 'OPERATION_CONFLICT') }
    }
  }, async (req, reply) => reply.status(202).header('cache-control', 'no-store').send(await tenants.issueOwnerLink(req.params.slug)));

  app.get('/tenants/:slug/events', {
    config: { scope: 'read' },
    schema: {
      tags,
      params: S.slugParam,
      querystring: S.eventsQuery,
      response: { 200: S.eventsReply }
    }
  }, async (req) => ({ events: await events.history({ tenant: req.params.slug }, req.query.limit) }));

  // Tail, or follow as a plain-text stream that curl -N prints line by line.
  app.get('/tenants/:slug/logs', {
    config: { scope: 'read' },
    schema: {
      tags,
      summary: "A service's log: the last lines as JSON, or followed as text",
      params: S.slugParam,
      querystring: logsQuery,
      response: {
        200: {
          description: 'follow=false: the last lines; follow=true: a text/plain stream of lines that stays open',
          content: {
            'application/json': { schema: S.logsReply },
            'text/plain': { schema: { type: 'string' } }
          }
        },
        ...errorResponses('TENANT_NOT_FOUND', 'TEMPLATE_NOT_FOUND', 'SERVICE_NO_CONTAINER', ...RUNTIME_CODES)
      }
    }
  }, async (req, reply) => {
    const container = await logs.logContainer(req.params.slug, req.query.service);
    if (!req.query.follow) {
      return { lines: (await logs.logs(container, req.query.tail)).split('\n').filter((l) => l !== '').map(redactLogLine) };
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const stop = await logs.followLogs(container, req.query.tail, (line) => reply.raw.write(`${redactLogLine(line)}\n`), () => reply.raw.end());
    req.raw.on('close', stop);
  });

  app.get('/tenants/:slug/logs/ws', {
    config: { scope: 'read' },
    websocket: true,
    schema: { tags, params: S.slugParam, querystring: logsQuery }
  }, async (socket, req) => {
    try {
      const container = await logs.logContainer(req.params.slug, req.query.service);
      const stop = await logs.followLogs(container, req.query.tail, (line) => socket.send(redactLogLine(line)), () => socket.close(1000, 'log ended'));
      socket.on('close', stop);
    } catch (err) {
      const e = err instanceof BerthError ? err : new BerthError('INTERNAL', (err as Error).message);
      socket.send(JSON.stringify({ error: { code: e.code, message: e.message } }));
      socket.close(1011, e.code);
    }
  });
};
