import { json } from '@sveltejs/kit';
import { api } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

/** Who is signed in, and the token fetch() calls send in x-csrf-token. */
export const GET: RequestHandler = api(async ({ locals }, member) => json({ member, csrf: locals.session?.csrf }));
