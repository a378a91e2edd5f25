// Sign-in: email + password + a 6-digit TOTP code. Every sign-in makes a new
// session (the API issues it; we only store it in the cookie), so a session
// fixed before sign-in is never the one used after.
import { fail, redirect } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { EMAIL_MAX, field, readForm } from '$lib/server/forms';
import { setSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.operator) redirect(303, safeNext(url.searchParams.get('next')));
  return { enrolled: url.searchParams.has('enrolled'), expired: url.searchParams.has('expired') };
};

/** Only a path on this console, never another site. */
function safeNext(next: string | null): string {
  return next && next.length <= 512 && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/';
}

interface LoginFailure {
  email: string;
  field: 'email' | 'password' | 'code' | 'form';
  message: string;
  code?: string;
  /** ISO time the lockout ends (ACCOUNT_LOCKED with Retry-After). */
  until?: string;
}
const refuse = (status: number, f: LoginFailure) => fail(status, f);

export const actions: Actions = {
  default: async ({ request, cookies, url, getClientAddress }) => {
    const { form, failure } = await readForm(request);
    if (failure) return refuse(413, { email: '', field: 'form', message: failure.data.message });
    const email = field(form, 'email', EMAIL_MAX);
    const password = field(form, 'password', 200, false);
    const code = field(form, 'code', 32)?.replace(/\s+/g, '') ?? '';
    if (email === null || email.indexOf('@') < 1) return refuse(400, { email: (email ?? '').slice(0, EMAIL_MAX), field: 'email', message: `Enter the email address you enrolled with (at most ${EMAIL_MAX} characters).` });
    if (password === null) return refuse(400, { email, field: 'password', message: 'Passwords here have at most 200 characters.' });
    if (!password) return refuse(400, { email, field: 'password', message: 'Enter your password.' });
    if (!/^\d{6}$/.test(code)) return refuse(400, { email, field: 'code', message: 'The code is the 6 digits your authenticator app shows.' });
    try {
      const { session, expiresAt } = await api().auth.login(email, password, code, getClientAddress());
      setSession(cookies, session, expiresAt);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'ACCOUNT_LOCKED' || err.status === 423 || err.status === 429) {
        const until = err.retryAfter ? new Date(Date.now() + err.retryAfter * 1000).toISOString() : undefined;
        return refuse(err.status, { email, field: 'form', code: err.code, until, message: err.message });
      }
      if (err.code === 'TOTP_REPLAYED') {
        return refuse(401, { email, field: 'code', code: err.code, message: 'That code was already used. Wait for the next code from your authenticator app.' });
      }
      if (err.code === 'INVALID_CREDENTIALS') {
        return refuse(401, { email, field: 'form', code: err.code, message: 'Email, password or code is wrong.' });
      }
      return refuse(err.status, { email, field: err.field === 'email' || err.field === 'password' || err.field === 'code' ? err.field : 'form', code: err.code, message: err.message });
    }
    redirect(303, safeNext(url.searchParams.get('next')));
  }
};
