// Everything in (authed) needs a signed-in operator; hooks.server.ts resolved it once.
import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals, url }) => {
  if (!locals.operator) {
    const next = url.pathname + url.search;
    redirect(303, next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  }
  return { operator: locals.operator, scope: locals.scope ?? 'read' };
};
