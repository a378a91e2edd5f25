// One upgrade job as JSON, for its page to resynchronise after its events socket reconnects.
import { error, json } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
  if (!locals.session) error(401, 'sign in first');
  try {
    return json(await api(locals.session).upgrades.get(params.id), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (err instanceof ApiError) error(err.status, { message: err.message, code: err.code });
    throw err;
  }
};
