import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { config } from '$lib/server/config';
import { closeDb } from '$lib/server/db';
import { AppError } from '$lib/server/errors';
import { apiError } from '$lib/server/http/api';
import { checkApiCsrf } from '$lib/server/http/csrf';
import { log, loggablePath } from '$lib/server/log';
import { hub } from '$lib/server/realtime/hub';
import { SESSION_COOKIE, sessionsService } from '$lib/server/sessions/sessions.service';
import { startUp, waitPrepared } from '$lib/server/startup';

/** Routes that must answer even while the database is being prepared. */
const ALWAYS = new Set(['/healthz', '/version']);
/** The one route whose body may be large: it streams, and has its own limit. */
const UPLOAD = /^\/api\/items\/[^/]+\/attachments$/;

export const init: ServerInit = async () => {
  config(); // fail at start on bad configuration
  log().info({ port: process.env.PORT }, 'starting');
  // Not awaited: /healthz answers (503, naming what is missing) meanwhile.
  void startUp();
};

/**
 * The image sets BODY_SIZE_LIMIT=Infinity so uploads can stream past
 * adapter-node's 512 KB default; every other body is capped here, before
 * anything reads it (Node's parser holds a request to its Content-Length).
 */
function checkBodySize(request: Request, path: string): void {
  if (request.method === 'GET' || request.method === 'HEAD' || UPLOAD.test(path)) return;
  const length = request.headers.get('content-length');
  if (length === null) {
    if (request.headers.get('transfer-encoding')) throw new AppError('LENGTH_REQUIRED');
    return;
  }
  if (Number(length) > config().requestMaxBytes) throw new AppError('TOO_LARGE', `requests may carry at most ${config().requestMaxBytes} bytes`);
}

export const handle: Handle = async ({ event, resolve }) => {
  const started = performance.now();
  const path = event.url.pathname;
  event.locals.member = null;
  event.locals.session = null;
  let response: Response;
  if (ALWAYS.has(path)) {
    response = await resolve(event);
  } else {
    try {
      checkBodySize(event.request, path);
      if (!(await waitPrepared(10_000))) throw new AppError('NOT_READY', 'the workspace is starting; try again in a moment');
      const auth = await sessionsService.authenticate(event.cookies.get(SESSION_COOKIE));
      event.locals.session = auth?.session ?? null;
      event.locals.member = auth?.member ?? null;
      if (path.startsWith('/api/')) checkApiCsrf(event.request, event.locals.session);
      response = await resolve(event);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      response = path.startsWith('/api/') ? apiError(err) : new Response(err.message, { status: err.status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
  }
  const ms = Math.round(performance.now() - started);
  log().info({ method: event.request.method, path: loggablePath(path), status: response.status, ms, member: event.locals.member?.id }, 'request');
  return response;
};

export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status !== 404) log().error({ err: error, path: loggablePath(event.url.pathname) }, 'unhandled error');
  return { message: status === 404 ? 'Not found' : 'Something went wrong on our side' };
};

// SIGTERM: adapter-node stops accepting connections and waits for in-flight
// requests. Open event streams never finish on their own, so end them now.
process.on('SIGTERM', () => {
  log().info({ streams: hub.size }, 'SIGTERM: finishing in-flight requests');
  hub.closeAll();
});

// adapter-node emits this once the server has closed: only then is it safe
// to close the database.
process.on('sveltekit:shutdown', async () => {
  await closeDb();
  log().info('database closed, exiting');
});
