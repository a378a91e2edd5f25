// GET /tenants/:slug/terminal (WebSocket): a shell in one of a tenant's
// containers, for operators only. Everything that can be refused is refused
// before the upgrade, as an ordinary HTTP error: who asks (an operator
// session, never an API token), the tenant and service, the container running.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import { errorResponses, RUNTIME_CODES } from '../api/schemas.js';
import { slugParam } from '../tenants/tenants.schema.js';
import { BerthError } from '../errors.js';
import { COLS, ROWS } from './terminal.protocol.js';
import type { TerminalService, TerminalSocket } from './terminal.service.js';

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$', default: 'app' },
    cols: { type: 'integer', minimum: COLS.min, maximum: COLS.max, default: 80 },
    rows: { type: 'integer', minimum: ROWS.min, maximum: ROWS.max, default: 24 },
    access_token: { type: 'string', description: 'the session token, for browsers (they cannot set headers on a WebSocket)' }
  }
} as const;

export const terminalRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { terminal: TerminalService } }> = async (app, { terminal }) => {
  const containers = new WeakMap<FastifyRequest, string>();

  app.get('/tenants/:slug/terminal', {
    config: { scope: 'admin' },
    websocket: true,
    schema: {
      tags: ['tenants'],
      summary: 'A shell in a tenant container (WebSocket; operators only)',
      description: 'Binary frames from the server are terminal output; text frames are closing notices. Send JSON text frames {"type":"input","data":"..."} and {"type":"resize","cols":N,"rows":M}.',
      params: slugParam,
      querystring: query,
      response: errorResponses('TENANT_NOT_FOUND', 'TEMPLATE_NOT_FOUND', 'SERVICE_NOT_RUNNING', 'SERVICE_HAS_NO_SHELL', ...RUNTIME_CODES)
    },
    preHandler: async (req) => {
      if (req.principal?.kind !== 'operator') {
        throw new BerthError('FORBIDDEN', 'terminals are for operators signed in to the console, not API tokens');
      }
      containers.set(req, await terminal.prepare(req.params.slug, req.query.service));
    }
  }, async (socket, req) => {
    await terminal.open(socket as unknown as TerminalSocket, {
      slug: req.params.slug,
      service: req.query.service,
      container: containers.get(req)!,
      cols: req.query.cols,
      rows: req.query.rows,
      principal: req.principal!,
      ip: req.ip
    });
  });
};
