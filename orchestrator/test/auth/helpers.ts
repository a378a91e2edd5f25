// Shared by the auth and audit tests: a real FerretDB container per test file,
// and a small fastify app wired like api/app.ts with dummy routes of each scope.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { Db } from 'mongodb';
import { installErrorHandler } from '../../src/api/error-handler.js';
import { errorSchema } from '../../src/api/schemas.js';
import { auditPlugin } from '../../src/audit/audit.plugin.js';
import type { AuditRepository } from '../../src/audit/audit.repository.js';
import { auditRoutes } from '../../src/audit/audit.routes.js';
import { authLogSerializers, authPlugin } from '../../src/auth/auth.plugin.js';
import type { TokensService } from '../../src/auth/tokens.service.js';
import { tokensRoutes } from '../../src/auth/tokens.routes.js';
import { loadConfig } from '../../src/config/config.js';
import { connectDatabase, type Database } from '../../src/db/mongo.js';
import { silentLogger } from '../../src/log.js';
import { ensurePlatformDb, removePlatformDb } from '../../src/platform/platform-db.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';

export const config = loadConfig();
export const runtime = new DockerRuntime(silentLogger, config.dockerSocket);

export interface TestDb {
  db: Db;
  /** The container, its published port and the database name, for the CLI's environment. */
  container: string;
  port: number;
  dbName: string;
}

/** Starts a FerretDB container of our own (removed with its data at teardown) and opens a fresh database in it. */
export async function startTestDb(t: { teardown(fn: () => unknown): void }, tag: string): Promise<TestDb> {
  const hex = randomBytes(4).toString('hex');
  const container = `tauth-${hex}`;
  let database: Database | undefined;
  // Registered first, so a start that fails halfway is cleaned up too.
  t.teardown(async () => {
    await database?.close();
    await removePlatformDb(runtime, container, true);
  });
  // port 0: Docker picks a free port on 127.0.0.1 and ensurePlatformDb reads it back, so parallel runs never collide.
  const url = await ensurePlatformDb(runtime, { ...config, mongoUrl: undefined, platformDb: { container, port: 0 } });
  const dbName = `berth_test_${tag}_${hex}`;
  database = await connectDatabase(url, dbName);
  return { db: database.db, container, port: Number(new URL(url).port), dbName };
}

/** Every log line the app writes, as text, to prove what never reaches it. */
export function logCapture(onLine?: (line: string) => void): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString('utf8');
      lines.push(line);
      onLine?.(line);
      done();
    }
  });
  return { lines, stream };
}

/**
 * The auth and audit plugins and routes as app.ts registers them, plus dummy
 * routes: /things (GET read, POST write), /open (public), /admin-only (no
 * scope declared), a write action with a slug, and a WebSocket (read).
 */
export async function buildTestApp(deps: { tokens: TokensService; audit: AuditRepository }, log = logCapture()): Promise<FastifyInstance> {
  const app = Fastify({
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    logger: { level: 'info', stream: log.stream, serializers: authLogSerializers }
  });
  app.addSchema(errorSchema);
  installErrorHandler(app);
  await app.register(swagger, { openapi: { info: { title: 'test', version: '0' } } });
  await app.register(websocket);
  await app.register(authPlugin, { tokens: deps.tokens });
  await app.register(auditPlugin, { audit: deps.audit });
  await app.register(
    async (api) => {
      api.get('/things', { config: { scope: 'read' } }, async (req) => ({ principal: req.principal }));
      api.post('/things', { config: { scope: 'write' } }, async (req, reply) => reply.status(201).send({ principal: req.principal }));
      api.get('/open', { config: { scope: 'public' } }, async (req) => ({ open: true, principal: req.principal ?? null }));
      api.get('/admin-only', async () => ({ admin: true }));
      api.post<{ Params: { slug: string; action: string } }>('/tenants/:slug/actions/:action', {
        config: { scope: 'write' },
        schema: { params: { type: 'object', properties: { slug: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,30}$' }, action: { type: 'string' } } } }
      }, async (_req, reply) => reply.status(202).send({ accepted: true }));
      api.get('/ws', { config: { scope: 'read' }, websocket: true }, (socket, req) => {
        socket.send(JSON.stringify(req.principal));
      });
      await api.register(tokensRoutes, { tokens: deps.tokens });
      await api.register(auditRoutes, { audit: deps.audit });
    },
    { prefix: '/api/v1' }
  );
  await app.ready();
  return app;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
