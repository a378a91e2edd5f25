// Records every write that reached a route (POST, PUT, PATCH, DELETE),
// refused ones included: a 401 or 403 is exactly what an audit should show.
// The error code is read from the JSON error body in onSend (the body itself is
// never kept); the entry is written after the response has gone, without
// awaiting it, so a slow or failing audit write never delays or fails a request.
// Requests that matched no route (404, 405) are not recorded: they act on
// nothing (the request log still shows them).
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, AuditRepository } from './audit.repository.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Route params are short; a longer value is junk from a refused request and is cut. */
const MAX_PARAM = 128;

export const auditPlugin = fp(
  async (app: FastifyInstance, { audit }: { audit: AuditRepository }) => {
    const errorCodes = new WeakMap<FastifyRequest, string>();

    app.addHook('onSend', async (request, reply, payload) => {
      if (WRITES.has(request.method) && reply.statusCode >= 400) {
        const code = errorCodeOf(payload);
        if (code) errorCodes.set(request, code);
      }
      return payload;
    });

    app.addHook('onResponse', async (request, reply) => {
      if (!WRITES.has(request.method) || request.routeOptions.url === undefined) return;
      // A 405 matched a path but no route of it (api/allowed-methods.ts): like a 404, it acted on nothing.
      if (reply.statusCode === 405) return;
      const entry = entryFor(request, reply, errorCodes.get(request));
      audit.record(entry).catch((err: unknown) => request.log.warn({ err, action: entry.action }, 'audit entry not written'));
    });

    app.addHook('onClose', async () => audit.flush());
  },
  { name: 'berth-audit', fastify: '5.x' }
);

function entryFor(request: FastifyRequest, reply: FastifyReply, errorCode: string | undefined): AuditEntry {
  const status = reply.statusCode;
  const target: AuditEntry['target'] = {};
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') continue;
    target[name === 'slug' ? 'tenant' : name] = value.slice(0, MAX_PARAM);
  }
  return {
    at: new Date(),
    actor: request.principal ? { tokenId: request.principal.tokenId, name: request.principal.name } : null,
    action: `${request.method} ${request.routeOptions.url}`,
    target,
    status,
    result: status < 400 ? 'ok' : (errorCode ?? `HTTP_${status}`),
    ip: request.ip
  };
}

/** The `error.code` of a JSON error body like {"error":{"code":"FORBIDDEN",...}}. */
function errorCodeOf(payload: unknown): string | undefined {
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  if (!text || text.length > 16 * 1024) return undefined;
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code.slice(0, 64) : undefined;
  } catch {
    return undefined; // not JSON: the status alone says what happened
  }
}
