import { redirect } from '@sveltejs/kit';
import { AppError } from '$lib/server/errors';
import { addressKey, clientAddress } from '$lib/server/http/client-address';
import { formFailure } from '$lib/server/http/forms';
import { checkCredentials } from '$lib/server/members/members.service';
import { SESSION_COOKIE, sessionCookieOptions, sessionsService } from '$lib/server/sessions/sessions.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  if (locals.member) redirect(303, '/board');
};

export const actions: Actions = {
  default: async (event) => {
    const { request, cookies, url } = event;
    const data = await request.formData();
    const email = String(data.get('email') ?? '');
    try {
      const member = await checkCredentials(email, data.get('password'), addressKey(clientAddress(event)));
      const { token } = await sessionsService.create(member.id);
      cookies.set(SESSION_COOKIE, token, sessionCookieOptions(url));
    } catch (err) {
      if (err instanceof AppError && err.retryAfterSeconds) event.setHeaders({ 'retry-after': String(err.retryAfterSeconds) });
      return formFailure(err, { email });
    }
    redirect(303, '/board');
  }
};
