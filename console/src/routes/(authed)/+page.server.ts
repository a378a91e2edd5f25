import { api, ApiError } from '$lib/server/api';
import { raise } from '$lib/server/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  const client = api(locals.session!);
  try {
    const [tenants, quota, backups] = await Promise.all([
      client.tenants.list(),
      // Only a notice: a platform without onboarding (404), or an API that fails it, shows none.
      client.onboardingQuota().catch((err) => {
        if (err instanceof ApiError && err.status !== 401) return null;
        throw err;
      }),
      // The Backups card says why it is empty rather than failing the whole dashboard.
      client.backups.overview().catch((err) => {
        if (err instanceof ApiError && err.status !== 401) return { error: err.message };
        throw err;
      })
    ]);
    return { tenants, quota, backups };
  } catch (err) {
    raise(err, cookies);
  }
};
