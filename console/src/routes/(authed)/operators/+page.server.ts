// Operators: add one (the API answers with a one-time setup link to hand
// over), disable one, or reset one (new password and authenticator via a new link).
import { fail } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { config } from '$lib/server/config';
import { failFrom, raise } from '$lib/server/errors';
import { EMAIL_MAX, field, looksLikeEmail, readForm } from '$lib/server/forms';
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
    const { form, failure } = await readForm(request);
    if (failure) return failure;
    const email = field(form, 'email', EMAIL_MAX);
    const name = field(form, 'name', 100);
    const shown = { email: (email ?? '').slice(0, EMAIL_MAX), name: (name ?? '').slice(0, 100) };
    if (email === null || !looksLikeEmail(email)) return fail(400, { action: 'add', field: 'email', message: `Enter an email address (at most ${EMAIL_MAX} characters).`, ...shown });
    if (name === null) return fail(400, { action: 'add', field: 'name', message: 'Names here have at most 100 characters.', ...shown });
    if (!name) return fail(400, { action: 'add', field: 'name', message: 'Enter their name.', ...shown });
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
