// Enrolment from a one-time setup link: the API hands out the TOTP secret (and
// its QR code) for this link; the operator chooses a password and proves the
// authenticator works with one code. Then they sign in like everyone else.
import { error, fail, redirect } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { field, readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

const MIN_PASSWORD = 12;

export const load: PageServerLoad = async ({ params }) => {
  try {
    const s = await api().auth.setupStart(params.token);
    // As an <img> data URL, so markup from the API never becomes part of our DOM.
    const qr = `data:image/svg+xml;base64,${Buffer.from(s.qrSvg, 'utf8').toString('base64')}`;
    return { email: s.email, name: s.name, secret: s.totpSecret, otpauthUrl: s.otpauthUrl, qr };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) {
      error(err.status === 401 ? 410 : err.status, { message: 'This setup link is unknown, used or expired. Ask another operator for a new one.', code: err.code });
    }
    throw err;
  }
};

export const actions: Actions = {
  default: async ({ request, params }) => {
    const { form, failure } = await readForm(request);
    if (failure) return failure;
    const password = field(form, 'password', 200, false);
    const repeat = field(form, 'repeat', 200, false) ?? '';
    const code = field(form, 'code', 32)?.replace(/\s+/g, '') ?? '';
    if (password === null) return fail(400, { field: 'password', message: 'Use at most 200 characters.' });
    if (password.length < MIN_PASSWORD) return fail(400, { field: 'password', message: `Use at least ${MIN_PASSWORD} characters.` });
    if (password !== repeat) return fail(400, { field: 'repeat', message: 'The two passwords differ.' });
    if (!/^\d{6}$/.test(code)) return fail(400, { field: 'code', message: 'The code is the 6 digits your authenticator app shows.' });
    try {
      await api().auth.setupFinish(params.token, password, code);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const field = err.field ?? (/code|totp/i.test(err.code) ? 'code' : /password/i.test(err.code) ? 'password' : 'form');
      return fail(err.status, { field, message: err.message });
    }
    redirect(303, '/login?enrolled=1');
  }
};
