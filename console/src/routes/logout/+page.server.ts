// Sign-out: ends the session at the API (so the token is dead everywhere, not
// only forgotten here) and deletes the cookie. POST only; a GET goes home.
import { redirect } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { clearSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ locals, cookies }) => {
    if (locals.session) {
      await api(locals.session).auth.logout().catch((err) => {
        // Already dead at the API: nothing left to end. Anything else still clears our cookie.
        if (!(err instanceof ApiError)) throw err;
      });
    }
    clearSession(cookies);
    redirect(303, '/login');
  }
};
