// A backup opened, as a tar, for operators whose scope is admin: the API's
// stream passed through as it arrives (never held whole in memory), with the
// operator's session from its HttpOnly cookie, so the browser never holds an
// API credential. A backup the API finds damaged while streaming ends the
// download with an error: the browser keeps a failed download, not a tar
// that looks complete.
import { error } from '@sveltejs/kit';
import { api, ApiError } from '$lib/server/api';
import { clearSession } from '$lib/server/session';
import { BACKUP_ID, SLUG_PATTERN } from '$contract';
import type { RequestHandler } from './$types';

const ID = new RegExp(BACKUP_ID);

export const GET: RequestHandler = async ({ locals, params, cookies }) => {
  if (!locals.session) error(401, 'sign in first');
  if (!SLUG_PATTERN.test(params.slug) || !ID.test(params.id)) error(404, 'no such backup');
  if (locals.scope !== 'admin') error(403, 'downloading a backup needs an operator with admin rights');
  let res: Response;
  try {
    res = await api(locals.session).backups.download(params.slug, params.id);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) clearSession(cookies);
    error(err.status, { message: err.message, code: err.code });
  }
  return new Response(res.body, {
    status: 200,
    headers: {
      'content-type': 'application/x-tar',
      // Both parts were checked against their patterns above: nothing to escape.
      'content-disposition': `attachment; filename="${params.slug}-${params.id}.tar"`,
      'cache-control': 'no-store'
    }
  });
};
