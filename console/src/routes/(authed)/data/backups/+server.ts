// Every team's backups at a glance as JSON, for the dashboard to refresh its
// Backups card after a backup event or a reconnect. Same session as the page.
import { error, json } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals }) => {
  if (!locals.session) error(401, 'sign in first');
  try {
    return json(await api(locals.session).backups.overview(), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (err instanceof ApiError) error(err.status, { message: err.message, code: err.code });
    throw err;
  }
};
