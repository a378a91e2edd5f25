// HTTP ↔ service, nothing more: tenants CRUD, actions, owner links, history
// and logs (with one-time links and other credentials blanked out).
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../api/schemas.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { redactLogLine } from './log-redact.js';
import type { Phase } from './tenant.types.js';
import type { TenantsService } from './tenants.service.js';
import * as S from './tenants.schema.js';

type Slug = { slug: string };

export const tenantsRoutes: FastifyPluginAsync<{ tenants: TenantsService; events: EventBus }> = async (app, { tenants, events }) => {
  app.addSchema(S.tenantSchema);
  const tags = ['tenants'];

  app.get<{ Querystring: { phase?: Phase } }>('/tenants', {
    config: { scope: 'read' },
    schema: { tags, querystring: S.listQuery, response: { 200: { type: 'object', properties: { tenants: { type: 'array', items: { $ref: 'Tenant#' } } } }, ...errorResponses } }
  }, async (req) => ({ tenants: await tenants.list({ phase: req.query.phase }) }));

  app.post<{ Body: { slug: string; displayName?: string; ownerEmail?: string; plan?: string; template?: string } }>('/tenants', {
    config: { scope: 'write' },
    schema: { tags, body: S.createBody, response: { 202: S.accepted, ...errorResponses } }
  }, async (req, reply) => reply.status(202).send(await tenants.create(req.body)));

  app.get<{ Params: Slug }>('/tenants/:slug', {
    config: { scope: 'read' },
    schema: { tags, params: S.slugParam, response: { 200: { $ref: 'Tenant#' }, ...errorResponses } }
  }, async (req) => tenants.get(req.params.slug, { measureStorage: true }));

  app.post<{ Params: Slug & { action: 'start' | 'stop' | 'restart' } }>('/tenants/:slug/actions/:action', {
    config: { scope: 'write' },
    schema: { tags, params: S.actionParams, response: { 202: S.accepted, ...errorResponses } }
  }, async (req, reply) => reply.status(202).send(await tenants[req.params.action](req.params.slug)));

  app.delete<{ Params: Slug; Querystring: { deleteData: boolean; confirm?: string } }>('/tenants/:slug', {
    config: { scope: 'write' },
    schema: { tags, params: S.slugParam, querystring: S.deleteQuery, response: { 202: S.accepted, ...errorResponses } }
  }, async (req, reply) => reply.status(202).send(await tenants.delete(req.params.slug, req.query)));

  // The link hands the team over: admins only, and never logged.
  app.post<{ Params: Slug }>('/tenants/:slug/owner-link', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Issue a new one-time owner setup link (the old one stops working; the app is recreated with it, a stopped team gets it when started)',
      params: S.slugParam,
      response: { 202: S.ownerLinkReply, ...errorResponses }
    }
  }, async (req, reply) => reply.status(202).header('cache-control', 'no-store').send(await tenants.issueOwnerLink(req.params.slug)));

  app.get<{ Params: Slug; Querystring: { limit?: number } }>('/tenants/:slug/events', {
    config: { scope: 'read' },
    schema: {
      tags,
      params: S.slugParam,
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses }
    }
  }, async (req) => ({ events: await events.history({ tenant: req.params.slug }, req.query.limit) }));

  // Tail, or follow as a plain-text stream that curl -N prints line by line.
  app.get<{ Params: Slug; Querystring: { service: string; tail: number; follow: boolean } }>('/tenants/:slug/logs', {
    config: { scope: 'read' },
    schema: { tags, params: S.slugParam, querystring: S.logsQuery }
  }, async (req, reply) => {
    const container = await tenants.containerOf(req.params.slug, req.query.service);
    if (!req.query.follow) {
      return { lines: (await tenants.logs(container, req.query.tail)).split('\n').filter((l) => l !== '').map(redactLogLine) };
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const stop = await tenants.followLogs(container, req.query.tail, (line) => reply.raw.write(`${redactLogLine(line)}\n`), () => reply.raw.end());
    req.raw.on('close', stop);
  });

  app.get<{ Params: Slug; Querystring: { service: string; tail: number } }>('/tenants/:slug/logs/ws', {
    config: { scope: 'read' },
    websocket: true,
    schema: { tags, params: S.slugParam, querystring: S.logsQuery }
  }, async (socket, req) => {
    try {
      const container = await tenants.containerOf(req.params.slug, req.query.service);
      const stop = await tenants.followLogs(container, req.query.tail, (line) => socket.send(redactLogLine(line)), () => socket.close(1000, 'log ended'));
      socket.on('close', stop);
    } catch (err) {
      const e = err instanceof BerthError ? err : new BerthError('INTERNAL', (err as Error).message);
      socket.send(JSON.stringify({ error: { code: e.code, message: e.message } }));
      socket.close(1011, e.code);
    }
  });
};
