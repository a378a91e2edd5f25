// One tenant's view as JSON, for the dashboard to refresh a row after an
// operation ends. Same session as the page; 404 → null (it is gone).
import { error, json } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { SLUG_PATTERN } from '$contract';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
  if (!locals.session) error(401, 'sign in first');
  if (!SLUG_PATTERN.test(params.slug)) error(400, 'not a team name');
  try {
    return json(await api(locals.session).tenants.get(params.slug), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return json(null);
    if (err instanceof ApiError) error(err.status, { message: err.message, code: err.code });
    throw err;
  }
};
