// The ALTCHA widget fetches its challenge here; the API signs and dates it.
import { jsonFrom, signupApi } from '$lib/server/onboard';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) => jsonFrom(() => signupApi(event).captcha());
