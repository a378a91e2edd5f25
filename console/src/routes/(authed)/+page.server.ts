import { api } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  try {
    return { tenants: await api(locals.session!).tenants.list() };
  } catch (err) {
    raise(err, cookies);
  }
};
