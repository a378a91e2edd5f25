import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
  if (!locals.member || !locals.session) redirect(303, '/signin');
  return { me: locals.member, csrf: locals.session.csrf };
};
