// Mail the development SMTP sink captured (no SMTP server is configured for
// onboarding): sign-up codes among it, so operators can help, or test.
import { api } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  try {
    return await api(locals.session!).mails(100);
  } catch (err) {
    raise(err, cookies);
  }
};
