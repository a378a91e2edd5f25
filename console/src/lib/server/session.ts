// The berth_session cookie: the operator's session token (bsess_...), which
// only the console's server ever reads — never the browser's scripts.
import type { Cookies } from '@sveltejs/kit';
import { config } from './config';

export const SESSION_COOKIE = 'berth_session';

export function setSession(cookies: Cookies, session: string, expiresAt?: string): void {
  const expires = expiresAt ? new Date(expiresAt) : undefined;
  cookies.set(SESSION_COOKIE, session, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: config.secureCookies,
    ...(expires && !Number.isNaN(expires.getTime()) ? { expires } : {})
  });
}

export function clearSession(cookies: Cookies): void {
  cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.secureCookies });
}
