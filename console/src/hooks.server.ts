// Resolves the berth_session cookie into locals.operator (and the scope the
// API grants it) with one call to /auth/me. A session the API no longer accepts (expired, signed out
// elsewhere, operator disabled) clears the cookie; the (authed) layout then
// sends the browser to /login. An API that does not answer is an error page,
// not a sign-out.
import type { Handle, HandleServerError } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { clearSession, SESSION_COOKIE } from '$lib/server/session';

export const handle: Handle = async ({ event, resolve }) => {
  event.locals.operator = null;
  event.locals.session = null;
  event.locals.scope = null;
  const session = event.cookies.get(SESSION_COOKIE);
  if (session) {
    try {
      const me = await api(session).auth.me();
      event.locals.operator = me.operator;
      event.locals.scope = me.scope;
      event.locals.session = session;
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) throw err;
      clearSession(event.cookies);
    }
  }
  const response = await resolve(event);
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('referrer-policy', 'same-origin');
  response.headers.set('x-content-type-options', 'nosniff');
  return response;
};

export const handleError: HandleServerError = ({ error, status }) => {
  if (error instanceof ApiError) return { message: error.message, code: error.code };
  if (status === 404) return { message: 'Not found' };
  console.error(error);
  return { message: 'Something went wrong in the console; see its log.' };
};
