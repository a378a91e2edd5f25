// As the team's name is typed: GET ?name= suggests a slug, ?slug= checks one
// (free, or why not in words, with a free alternative). Only for this
// browser's verified sign-up (its cookie).
import { jsonFrom, signupApi } from '$lib/server/onboard';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) => {
  const slug = event.url.searchParams.get('slug');
  const query = slug !== null ? { slug: slug.slice(0, 64) } : { name: (event.url.searchParams.get('name') ?? '').slice(0, 128) };
  return jsonFrom(() => signupApi(event).slug(query));
};
