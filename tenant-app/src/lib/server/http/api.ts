// JSON endpoints: one place turns AppError into `{ error: { code, message, fields } }`
// with its status, and hides anything else behind a 500.
import { json, type RequestEvent } from '@sveltejs/kit';
import { AppError } from '../errors';
import { log } from '../log';
import type { Member } from '../members/members.types';

export function apiError(err: unknown): Response {
  if (err instanceof AppError) {
    const headers: Record<string, string> = err.retryAfterSeconds ? { 'retry-after': String(err.retryAfterSeconds) } : {};
    return json({ error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } }, { status: err.status, headers });
  }
  log().error({ err }, 'request failed');
  return json({ error: { code: 'INTERNAL', message: 'something went wrong on our side' } }, { status: 500 });
}

/** Runs an endpoint for a signed-in member; CSRF was checked in hooks.server.ts. */
export function api<E extends RequestEvent>(handler: (event: E, member: Member) => Promise<Response>): (event: E) => Promise<Response> {
  return async (event) => {
    try {
      const member = event.locals.member;
      if (!member) throw new AppError('UNAUTHENTICATED');
      return await handler(event, member);
    } catch (err) {
      return apiError(err);
    }
  };
}

/**
 * Reads and drops a request body nobody read, when it declares at most
 * `maxBytes`; a larger or undeclared one is left alone (the connection is
 * dropped after the answer): cheaper than reading a file we refused.
 */
export async function discardBody(request: Request, maxBytes: number): Promise<void> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (!request.body || request.bodyUsed || request.body.locked || !(declared <= maxBytes)) return;
  const reader = request.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > maxBytes) break;
    }
  } catch {
    // the client went away: nothing left to drain
    return;
  }
  await reader.cancel().catch(() => {});
}

/** Reads a JSON object body; the size was capped in hooks.server.ts. */
export async function readJson(request: Request): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new AppError('VALIDATION', 'the body must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('VALIDATION', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}
