// API errors → what SvelteKit shows: a form failure next to the field in
// actions, an error page in loads, and a sign-in page when the session is gone.
import { error, fail, redirect, type Cookies } from '@sveltejs/kit';
import { ApiError } from './api';
import { clearSession } from './session';

export interface FormFailure {
  message: string;
  field?: string;
  code?: string;
  [key: string]: unknown;
}

/** For form actions: fail(status, {message, field}); a lost session redirects to /login. */
export function failFrom(err: unknown, cookies: Cookies, extra: Record<string, unknown> = {}) {
  if (!(err instanceof ApiError)) throw err;
  if (err.status === 401 && err.code === 'UNAUTHENTICATED') {
    clearSession(cookies);
    redirect(303, '/login?expired=1');
  }
  return fail(err.status, { message: err.message, field: err.field, code: err.code, ...extra } satisfies FormFailure);
}

/** For loads: an error page with the API's message; a lost session redirects to /login. */
export function raise(err: unknown, cookies: Cookies): never {
  if (!(err instanceof ApiError)) throw err;
  if (err.status === 401) {
    clearSession(cookies);
    redirect(303, '/login?expired=1');
  }
  error(err.status, { message: err.message, code: err.code });
}
