// The audit log, newest first, narrowed by the filters in the query string (a GET form: shareable links).
import { api } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

const FIELDS = ['actor', 'action', 'tenant', 'result'] as const;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  const filter: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const f of FIELDS) {
    const v = url.searchParams.get(f)?.trim();
    if (v) filter[f] = v.slice(0, 256);
  }
  const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit')) || 100));
  try {
    return { filter, limit, entries: await api(locals.session!).audit({ ...filter, limit }) };
  } catch (err) {
    raise(err, cookies);
  }
};
