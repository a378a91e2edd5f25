// Authenticates every request against the scope its route declares
// (`config.scope`; none declared means admin: fail closed) and sets
// request.principal. Runs on onRequest, so WebSocket upgrades are refused
// before the socket opens (@fastify/websocket routes upgrades through the
// normal router).
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BerthError } from '../errors.js';
import { SCOPES, scopeAllows, type Principal, type Scope } from './auth.types.js';
import type { TokensService } from './tokens.service.js';

const HOW_TO_SEND = 'send it as "Authorization: Bearer <token>"';
const HOW_TO_GET = 'an admin makes one with POST /api/v1/tokens or "scripts/berth admin token create --name NAME --scope read|write|admin" on the host';

/** Console sessions (`bsess_...`), when the operators domain is wired in. */
export interface SessionAuthenticator {
  authenticate(token: string): Promise<Principal | null>;
}

const SESSION_PREFIX = 'bsess_';

export const authPlugin = fp(
  async (app: FastifyInstance, { tokens, sessions }: { tokens: TokensService; sessions?: SessionAuthenticator }) => {
    app.decorateRequest('principal', undefined);

    app.addHook('onRequest', async (request) => {
      // No route matched: let the not-found handler answer 404 rather than hide it behind a 401.
      if (request.routeOptions.url === undefined) return;
      const declared = request.routeOptions.config.scope;
      if (declared === 'public') return;
      // Anything but a known scope (none, or a typo) needs admin.
      const needed: Scope = declared && SCOPES.includes(declared) ? declared : 'admin';

      const websocket = isWebSocketUpgrade(request);
      const token = bearerToken(request, websocket);
      if (token === undefined) {
        const how = websocket ? `${HOW_TO_SEND} or as the access_token query parameter` : HOW_TO_SEND;
        throw new BerthError('UNAUTHENTICATED', `this needs an API token: ${how}; ${HOW_TO_GET}`);
      }
      const session = sessions !== undefined && token.startsWith(SESSION_PREFIX);
      const principal = session ? await sessions.authenticate(token) : await tokens.authenticate(token);
      if (!principal && session) {
        throw new BerthError('UNAUTHENTICATED', 'the console session is unknown, expired or ended (signed out, or the operator was disabled or reset); sign in again');
      }
      if (!principal) {
        throw new BerthError('UNAUTHENTICATED', `the API token is malformed, unknown or revoked; ${HOW_TO_SEND} (tokens look like berth_<id>_<secret>)`);
      }
      // Set before the scope check, so the audit log names who was refused a 403.
      request.principal = principal;
      if (!scopeAllows(principal.scope, needed)) {
        throw new BerthError('FORBIDDEN', `this needs scope "${needed}" or higher; token ${principal.tokenId} ("${principal.name}") has scope "${principal.scope}"`);
      }
    });
  },
  { name: 'berth-auth', fastify: '5.x' }
);

/**
 * A real WebSocket handshake. Browsers cannot set headers on one, so only here
 * is a token accepted in the query string (where it risks ending up in logs,
 * so ordinary requests must use the header). `request.ws` comes from
 * @fastify/websocket and is true only for requests that arrived as an HTTP
 * upgrade; without that plugin we go by the header alone.
 */
function isWebSocketUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return false;
  return (request as { ws?: boolean }).ws !== false;
}

/** The token text, or undefined if none was sent. A malformed header yields a value that fails authentication. */
function bearerToken(request: FastifyRequest, websocket: boolean): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header !== '') {
    const match = /^Bearer +(\S+) *$/i.exec(header);
    return match?.[1] ?? '';
  }
  if (websocket) {
    const fromQuery = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  }
  return undefined;
}

/** The URL with any access_token value blanked, for request logs. */
export function redactAccessToken(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}

/**
 * fastify logs every request URL ("incoming request") before any hook runs, so
 * a WebSocket's ?access_token= would reach the log. Pass these as the app's
 * `logger.serializers` to keep tokens out of it. Same fields as fastify's
 * default `req` serializer (lib/logger-pino.js), which gets the FastifyRequest.
 */
export const authLogSerializers = {
  req(request: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
    return {
      method: request.method,
      url: request.url === undefined ? undefined : redactAccessToken(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort
    };
  }
};
