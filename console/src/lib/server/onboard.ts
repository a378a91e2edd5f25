// The sign-up cookie: the token of the browser's sign-up (bsig_...), HttpOnly
// so page scripts never see it, sent by the console's server to the API and by
// the WebSocket proxy upstream. It is all the state the wizard has.
import { json, type Cookies, type RequestEvent } from '@sveltejs/kit';
import { ApiError, onboardingApi } from './api';
import { config } from './config';

export const SIGNUP_COOKIE = 'berth_signup';

export function setSignup(cookies: Cookies, token: string, expiresAt: string): void {
  const expires = new Date(expiresAt);
  cookies.set(SIGNUP_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: config.secureCookies,
    ...(Number.isNaN(expires.getTime()) ? {} : { expires })
  });
}

export function clearSignup(cookies: Cookies): void {
  cookies.delete(SIGNUP_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.secureCookies });
}

/** The API for this browser's sign-up, on behalf of its address. */
export function signupApi(event: Pick<RequestEvent, 'cookies' | 'getClientAddress'>) {
  return onboardingApi(event.cookies.get(SIGNUP_COOKIE), event.getClientAddress());
}

/** For the wizard's JSON endpoints: the API's answer, or its error with its status (and Retry-After). */
export async function jsonFrom(work: () => Promise<unknown>): Promise<Response> {
  try {
    return json(await work(), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const headers: Record<string, string> = err.retryAfter ? { 'retry-after': String(err.retryAfter) } : {};
    return json({ error: { code: err.code, message: err.message } }, { status: err.status, headers });
  }
}
