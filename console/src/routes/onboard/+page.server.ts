// The public sign-up wizard: email + captcha → code → team → live
// provisioning. The page keeps nothing of its own beyond the sign-up cookie;
// every visit reads where the sign-up stands from the API, so a closed tab or a
// return days later shows the truth.
import { error, fail } from '@sveltejs/kit';
import { ApiError } from '$lib/server/api';
import { EMAIL_MAX, field, looksLikeEmail, readForm } from '$lib/server/forms';
import { clearSignup, setSignup, SIGNUP_COOKIE, signupApi } from '$lib/server/onboard';
import type { Actions, PageServerLoad } from './$types';

type Field = 'email' | 'captcha' | 'code' | 'resend' | 'displayName' | 'slug' | 'plan' | 'form';

const FIELD_OF: Record<string, Field> = {
  CAPTCHA_INVALID: 'captcha',
  CODE_INVALID: 'code',
  CODE_EXPIRED: 'code',
  SIGNUP_LOCKED: 'code',
  RESEND_TOO_SOON: 'resend',
  SLUG_TAKEN: 'slug',
  SLUG_INVALID: 'slug',
  SLUG_RESERVED: 'slug',
  PLAN_UNKNOWN: 'plan',
  SIGNUPS_PAUSED: 'form'
};

const PAUSED = 'Sign-ups are paused for today; please try again later.';
const EMAIL_ADVICE = `Enter an email address like name@example.com (at most ${EMAIL_MAX} characters).`;

/** fail(status, {message, field}) for the field the API's error is about; anything but an API error is a bug. */
function refuse(err: unknown, fallback: Field, values: Record<string, string> = {}) {
  if (!(err instanceof ApiError)) throw err;
  const named = err.field === 'email' || err.field === 'displayName' ? err.field : undefined;
  const field = FIELD_OF[err.code] ?? named ?? (err.code === 'VALIDATION_FAILED' ? fallback : 'form');
  const message = err.code === 'SIGNUPS_PAUSED' ? PAUSED : err.code === 'VALIDATION_FAILED' && fallback === 'email' ? EMAIL_ADVICE : err.message;
  const retryAt = err.retryAfter ? new Date(Date.now() + err.retryAfter * 1000).toISOString() : undefined;
  return fail(err.status, { field, message, code: err.code, retryAt, ...values });
}


export const load: PageServerLoad = async (event) => {
  if (!event.cookies.get(SIGNUP_COOKIE)) return { status: null };
  try {
    return { status: await signupApi(event).status() };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'SIGNUP_UNKNOWN') {
      clearSignup(event.cookies);
      return { status: null, expired: true };
    }
    if (err instanceof ApiError) error(err.status, { message: err.message, code: err.code });
    throw err;
  }
};

export const actions: Actions = {
  start: async (event) => {
    const { form, failure } = await readForm(event.request);
    if (failure) return failure;
    const email = field(form, 'email', EMAIL_MAX);
    if (email === null || !looksLikeEmail(email)) return fail(400, { field: 'email', message: EMAIL_ADVICE, email: (email ?? '').slice(0, EMAIL_MAX) });
    const captcha = field(form, 'altcha', 8192);
    if (!captcha) return fail(400, { field: 'captcha', message: 'Tick "I\'m not a robot" and wait until it says verified.', email });
    try {
      const { signup, status } = await signupApi(event).start(email, captcha);
      setSignup(event.cookies, signup, status.expiresAt);
    } catch (err) {
      return refuse(err, 'email', { email });
    }
  },

  verify: async (event) => {
    const { form, failure } = await readForm(event.request);
    if (failure) return failure;
    const code = field(form, 'code', 32)?.replace(/\s+/g, '') ?? '';
    if (!/^\d{6}$/.test(code)) return fail(400, { field: 'code', message: 'The code is the 6 digits in the mail we sent.' });
    try {
      await signupApi(event).verify(code);
    } catch (err) {
      return refuse(err, 'code');
    }
  },

  resend: async (event) => {
    try {
      await signupApi(event).resend();
      return { resent: true };
    } catch (err) {
      return refuse(err, 'resend');
    }
  },

  team: async (event) => {
    const { form, failure } = await readForm(event.request);
    if (failure) return failure;
    const [displayName, slug, plan] = [field(form, 'displayName', 64), field(form, 'slug', 64), field(form, 'plan', 32)];
    const values = { displayName: displayName ?? '', slug: slug ?? '', plan: plan ?? '' };
    if (displayName === null) return fail(400, { field: 'displayName', message: 'Give your team a name of at most 64 characters.', ...values });
    if (values.displayName.length < 2) return fail(400, { field: 'displayName', message: 'Give your team a name of at least 2 characters.', ...values });
    if (slug === null) return fail(400, { field: 'slug', message: 'A team address has at most 32 letters, digits and dashes.', ...values });
    if (!values.plan) return fail(400, { field: 'plan', message: 'Choose a plan.', ...values });
    try {
      await signupApi(event).team(values.displayName, values.slug, values.plan);
    } catch (err) {
      const suggestion = err instanceof ApiError && err.code.startsWith('SLUG_')
        ? (await signupApi(event).slug({ slug: values.slug }).catch(() => undefined))?.suggestion
        : undefined;
      return refuse(err, 'slug', { ...values, ...(suggestion ? { suggestion } : {}) });
    }
  },

  retry: async (event) => {
    try {
      await signupApi(event).retry();
    } catch (err) {
      return refuse(err, 'form');
    }
  },

  /** Forget this sign-up in this browser and begin again. */
  restart: async ({ cookies }) => {
    clearSignup(cookies);
  }
};
