import { redirect } from '@sveltejs/kit';
import { SESSION_COOKIE, sessionCookieOptions, sessionsService } from '$lib/server/sessions/sessions.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ cookies, url }) => {
    const token = cookies.get(SESSION_COOKIE);
    if (token) await sessionsService.end(token);
    cookies.delete(SESSION_COOKIE, sessionCookieOptions(url));
    redirect(303, '/signin');
  }
};
