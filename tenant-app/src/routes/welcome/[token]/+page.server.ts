// The one-time link: the owner's setup link or an invitation. Choosing a
// password uses it up and signs the member in.
import { redirect } from '@sveltejs/kit';
import { AppError } from '$lib/server/errors';
import { formFailure, formValues } from '$lib/server/http/forms';
import { acceptLink, memberForLink } from '$lib/server/members/members.service';
import { SESSION_COOKIE, sessionCookieOptions, sessionsService } from '$lib/server/sessions/sessions.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, setHeaders }) => {
  // The token is in this page's URL: no other site may see it as a Referer,
  // and no cache may keep the page. same-origin, not no-referrer: under
  // no-referrer a browser sends "Origin: null" with the page's own form, and
  // SvelteKit's CSRF check then refuses the password it posts.
  setHeaders({ 'referrer-policy': 'same-origin', 'cache-control': 'no-store' });
  try {
    const pending = await memberForLink(params.token);
    return { valid: true as const, email: pending.email, name: pending.name, role: pending.role };
  } catch (err) {
    if (err instanceof AppError) return { valid: false as const, message: err.message };
    throw err;
  }
};

export const actions: Actions = {
  default: async ({ params, request, cookies, url }) => {
    const data = await request.formData();
    const values = formValues(data, ['name']);
    try {
      if (data.get('password') !== data.get('confirm')) {
        throw new AppError('VALIDATION', 'check the fields below', { confirm: 'the two passwords differ' });
      }
      const member = await acceptLink(params.token, data.get('name'), data.get('password'));
      const { token } = await sessionsService.create(member.id);
      cookies.set(SESSION_COOKIE, token, sessionCookieOptions(url));
    } catch (err) {
      return formFailure(err, values);
    }
    redirect(303, '/board');
  }
};
