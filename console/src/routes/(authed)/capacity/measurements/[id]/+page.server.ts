import { api } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, params }) => {
  try {
    return { m: await api(locals.session!).measurements.get(params.id.slice(0, 64)) };
  } catch (err) {
    raise(err, cookies);
  }
};
