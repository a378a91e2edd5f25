// Operators: add one (the API answers with a one-time setup link to hand
// over), disable one, or reset one (new password and authenticator via a new link).
import { fail } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { config } from '$lib/server/config';
import { failFrom, raise } from '$lib/server/errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  try {
    return { operators: await api(locals.session!).operators.list() };
  } catch (err) {
    raise(err, cookies);
  }
};

/** The API may answer with a path (/setup/<token>) or a full URL; show a full URL on this console. */
function absolute(setupUrl: string, origin: string): string {
  return /^https?:\/\//.test(setupUrl) ? setupUrl : new URL(setupUrl, config.origin ?? origin).href;
}

export const actions: Actions = {
  add: async ({ request, locals, cookies, url }) => {
    const form = await request.formData();
    const email = String(form.get('email') ?? '').trim();
    const name = String(form.get('name') ?? '').trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return fail(400, { action: 'add', field: 'email', message: 'Enter an email address.', email, name });
    if (!name) return fail(400, { action: 'add', field: 'name', message: 'Enter their name.', email, name });
    try {
      const { setupUrl, operator } = await api(locals.session!).operators.create(email, name);
      return { action: 'add', setupUrl: absolute(setupUrl, url.origin), who: operator?.email ?? email };
    } catch (err) {
      return failFrom(err, cookies, { action: 'add', email, name });
    }
  },
  disable: async ({ request, locals, cookies }) => {
    const id = String((await request.formData()).get('id') ?? '');
    try {
      await api(locals.session!).operators.disable(id);
      return { action: 'disable', done: 'Disabled; their sessions have ended.' };
    } catch (err) {
      return failFrom(err, cookies, { action: 'disable' });
    }
  },
  reset: async ({ request, locals, cookies, url }) => {
    const form = await request.formData();
    const id = String(form.get('id') ?? '');
    try {
      const { setupUrl } = await api(locals.session!).operators.reset(id);
      return { action: 'reset', setupUrl: absolute(setupUrl, url.origin), who: String(form.get('email') ?? '') };
    } catch (err) {
      return failFrom(err, cookies, { action: 'reset' });
    }
  }
};
