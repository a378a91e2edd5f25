// The console's WebSocket endpoints, proxied to the orchestrator so the
// browser never holds the session token: the browser authenticates with its
// HttpOnly berth_session cookie (same origin), and this proxy opens the
// upstream socket with "Authorization: Bearer <session>".
//
//   /ws/events[?tenant=&operation=]                  → /api/v1/events
//   /ws/tenants/<slug>/logs?service=[&tail=]          → /api/v1/tenants/<slug>/logs/ws
//   /ws/tenants/<slug>/terminal?service=&cols=&rows=  → /api/v1/tenants/<slug>/terminal
//   /ws/onboard                                       → /api/v1/onboarding/signup/events
//
// The onboarding socket is the exception to "needs a session": a new team has
// none. Its credential is the HttpOnly berth_signup cookie, sent upstream as
// X-Berth-Signup (with the browser's address, for the API's per-address
// limits), and the API decides which tenant's events it carries.
//
// Cookies ride along on cross-site WebSocket handshakes (SameSite does not
// stop a page on another site from opening one to us), so the Origin header
// must equal the console's own origin: the WebSocket equivalent of
// SvelteKit's form-origin check.
import { WebSocket, WebSocketServer } from 'ws';

const SLUG = /^[a-z][a-z0-9-]{2,31}$/;
const SERVICE = /^[a-z][a-z0-9-]{0,31}$/;
const OPERATION = /^[A-Za-z0-9-]{1,64}$/;
const SESSION = /^[A-Za-z0-9_.~+/=-]{8,512}$/;
const SIGNUP = /^bsig_[A-Za-z0-9_-]{43}$/;
const PING_MS = 25_000;
const MAX_PAYLOAD = 64 * 1024;

/**
 * @typedef {{ upstream: string, query: URLSearchParams, signup?: boolean }} Route
 */

/** @param {string | null} v @param {number} min @param {number} max */
function intIn(v, min, max) {
  if (v === null || !/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

/**
 * Which upstream path and query a console WebSocket path maps to; an Error
 * says why the request is refused (bad slug or query).
 * @param {string} pathname
 * @param {URLSearchParams} params
 * @returns {Route | Error | undefined} undefined: not one of our paths
 */
export function routeFor(pathname, params) {
  const query = new URLSearchParams();
  if (pathname === '/ws/onboard') return { upstream: '/api/v1/onboarding/signup/events', query, signup: true };
  if (pathname === '/ws/events') {
    const tenant = params.get('tenant');
    const operation = params.get('operation');
    if (tenant !== null) {
      if (!SLUG.test(tenant)) return new Error('tenant must be a team name');
      query.set('tenant', tenant);
    }
    if (operation !== null) {
      if (!OPERATION.test(operation)) return new Error('operation must be an operation id');
      query.set('operation', operation);
    }
    return { upstream: '/api/v1/events', query };
  }
  const m = /^\/ws\/tenants\/([^/]+)\/(logs|terminal)$/.exec(pathname);
  if (!m) return undefined;
  const slug = m[1] ?? '';
  const kind = m[2];
  if (!SLUG.test(slug)) return new Error('not a team name');
  const service = params.get('service') ?? 'app';
  if (!SERVICE.test(service)) return new Error('service must be a service name');
  query.set('service', service);
  if (kind === 'logs') {
    const tail = params.get('tail');
    if (tail !== null) {
      const n = intIn(tail, 0, 5000);
      if (n === undefined) return new Error('tail must be 0-5000');
      query.set('tail', String(n));
    }
    return { upstream: `/api/v1/tenants/${slug}/logs/ws`, query };
  }
  // The orchestrator's limits (orchestrator/src/terminal/terminal.protocol.ts).
  const cols = intIn(params.get('cols') ?? '80', 1, 500);
  const rows = intIn(params.get('rows') ?? '24', 1, 200);
  if (cols === undefined || rows === undefined) return new Error('cols must be 1-500 and rows 1-200');
  query.set('cols', String(cols));
  query.set('rows', String(rows));
  return { upstream: `/api/v1/tenants/${slug}/terminal`, query };
}

/** @param {string | undefined} header @param {string} name */
export function cookieValue(header, name) {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** @param {import('node:stream').Duplex} socket @param {number} status @param {string} message */
function refuse(socket, status, message) {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 502: 'Bad Gateway' }[status] ?? 'Error';
  const body = JSON.stringify({ error: { message } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Close codes a peer may send on (1005, 1006 and 1015 are reserved for reporting). */
function sendable(/** @type {number} */ code) {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** A close reason fits in 123 bytes. */
function shortReason(/** @type {string} */ text) {
  let r = text;
  while (Buffer.byteLength(r) > 120) r = r.slice(0, -1);
  return r;
}

/**
 * @param {import('node:http').Server} server
 * @param {{ apiUrl: string, origin?: string, sessionCookie?: string, connectTimeoutMs?: number, log?: (msg: string, fields?: object) => void }} options
 * @returns {{ close(): void, connections(): number }}
 */
export function attachWebSocketProxy(server, options) {
  const cookieName = options.sessionCookie ?? 'berth_session';
  const signupCookie = 'berth_signup';
  const log = options.log ?? (() => {});
  const upstreamBase = options.apiUrl.replace(/^http/, 'ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  /** @type {Set<WebSocket>} */
  const open = new Set();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const route = routeFor(url.pathname, url.searchParams);
    if (route === undefined) return refuse(socket, 404, 'no WebSocket here');
    const expected = options.origin ?? `http://${req.headers.host}`;
    if (req.headers.origin !== expected) return refuse(socket, 403, 'cross-origin WebSocket refused');
    if (route instanceof Error) return refuse(socket, 400, route.message);
    const credential = cookieValue(req.headers.cookie, route.signup ? signupCookie : cookieName);
    if (!credential || !(route.signup ? SIGNUP : SESSION).test(credential)) return refuse(socket, 401, route.signup ? 'start a sign-up first' : 'sign in first');
    const headers = route.signup
      ? { 'x-berth-signup': credential, 'x-forwarded-for': req.socket.remoteAddress ?? '' }
      : { authorization: `Bearer ${credential}` };

    const target = `${upstreamBase}${route.upstream}${route.query.size ? `?${route.query}` : ''}`;
    const upstream = new WebSocket(target, {
      headers,
      handshakeTimeout: options.connectTimeoutMs ?? 10_000,
      maxPayload: 16 * 1024 * 1024
    });
    let settled = false;
    socket.on('error', () => upstream.terminate());
    socket.on('close', () => {
      if (!settled) upstream.terminate();
    });

    // The orchestrator said no (401, 403, 404...): accept the browser's socket
    // and close it with 4000+status and the API's message, which a page can read
    // (a refused handshake tells a browser nothing).
    upstream.on('unexpected-response', (_request, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (/** @type {string} */ chunk) => (body = (body + chunk).slice(0, 4096)));
      res.on('end', () => {
        settled = true;
        let message = `the DevOps API answered ${res.statusCode}`;
        try {
          message = JSON.parse(body).error.message ?? message;
        } catch {}
        const status = res.statusCode ?? 502;
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (client) => client.close(status >= 400 && status < 500 ? 4000 + status : 1011, shortReason(message)));
      });
    });
    upstream.on('error', (err) => {
      if (settled) return;
      settled = true;
      log('upstream WebSocket failed', { path: route.upstream, err: err.message });
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (client) => client.close(1011, 'the DevOps API does not answer'));
    });
    upstream.on('open', () => {
      settled = true;
      if (socket.destroyed) return upstream.terminate();
      wss.handleUpgrade(req, socket, head, (client) => pipe(client, upstream));
    });
  });

  /** Frames both ways, text stays text and binary stays binary; one side closing closes the other. @param {WebSocket} client @param {WebSocket} upstream */
  function pipe(client, upstream) {
    open.add(client);
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) return client.terminate();
      alive = false;
      client.ping();
    }, PING_MS);
    client.on('pong', () => (alive = true));
    client.on('message', (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    });
    upstream.on('message', (data, isBinary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    const closeBoth = (/** @type {number} */ code, /** @type {Buffer} */ reason) => {
      clearInterval(ping);
      open.delete(client);
      for (const ws of [client, upstream]) {
        if (ws.readyState === WebSocket.OPEN) ws.close(sendable(code), reason);
        else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      }
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
  }

  return {
    close() {
      for (const ws of open) ws.close(1001, 'console shutting down');
      wss.close();
    },
    connections: () => open.size
  };
}
