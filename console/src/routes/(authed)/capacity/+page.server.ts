import { api } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  try {
    return { capacity: await api(locals.session!).capacity() };
  } catch (err) {
    raise(err, cookies);
  }
};
