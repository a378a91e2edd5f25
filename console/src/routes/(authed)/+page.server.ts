import { api, ApiError } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  const client = api(locals.session!);
  try {
    const [tenants, quota] = await Promise.all([
      client.tenants.list(),
      // Only a notice: a platform without onboarding (404), or an API that fails it, shows none.
      client.onboardingQuota().catch((err) => {
        if (err instanceof ApiError && err.status !== 401) return null;
        throw err;
      })
    ]);
    return { tenants, quota };
  } catch (err) {
    raise(err, cookies);
  }
};
