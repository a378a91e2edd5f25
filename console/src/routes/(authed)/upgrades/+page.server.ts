// Upgrades: the jobs so far, and a form for a new one: a version, which
// tenants (all, a filter, a list), the strategy; Preview shows the tenants it
// would touch before Start makes the job.
import { fail, redirect } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import type { UpgradeRequest } from '$contract';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  const client = api(locals.session!);
  try {
    const [jobs, versions, tenants] = await Promise.all([client.upgrades.list(), client.versions(), client.tenants.list()]);
    return { jobs, versions, phases: [...new Set(tenants.map((t) => t.phase))].sort(), tenantCount: tenants.length };
  } catch (err) {
    raise(err, cookies);
  }
};

const whole = (form: FormData, name: string): number | undefined => {
  const v = String(form.get(name) ?? '').trim();
  return v === '' ? undefined : Number(v);
};

/** The form as the API's request body; a string says what is wrong with it. */
function requestOf(form: FormData): UpgradeRequest | { field: string; message: string } {
  const toVersion = String(form.get('toVersion') ?? '');
  if (!toVersion) return { field: 'toVersion', message: 'Choose the version to upgrade to.' };
  const body: UpgradeRequest = { toVersion, autoApprove: form.get('autoApprove') === 'on' };
  for (const name of ['canary', 'concurrency', 'maxFailures'] as const) {
    const n = whole(form, name);
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) return { field: name, message: 'A whole number, 0 or more.' };
    if (n !== undefined) body[name] = n;
  }
  const scope = String(form.get('scope') ?? 'all');
  if (scope === 'all') body.all = true;
  else if (scope === 'list') {
    const tenants = String(form.get('tenants') ?? '').split(/[\s,]+/).filter(Boolean);
    if (tenants.length === 0) return { field: 'tenants', message: 'Name at least one team, separated by commas.' };
    body.tenants = tenants;
  } else {
    const filter: NonNullable<UpgradeRequest['filter']> = {};
    for (const [field, key] of [['phase', 'phase'], ['fromVersion', 'version'], ['prefix', 'slugPrefix']] as const) {
      const v = String(form.get(field) ?? '').trim();
      // The API refuses a phase outside PHASES (400 naming body.filter.phase).
      if (v) Object.assign(filter, { [key]: v });
    }
    body.filter = filter;
  }
  return body;
}

export const actions: Actions = {
  preview: async ({ request, locals, cookies }) => {
    const body = requestOf(await request.formData());
    if ('message' in body) return fail(400, body);
    try {
      return { preview: await api(locals.session!).upgrades.preview(body) };
    } catch (err) {
      return failFrom(err, cookies);
    }
  },
  start: async ({ request, locals, cookies }) => {
    const body = requestOf(await request.formData());
    if ('message' in body) return fail(400, body);
    let id: string;
    try {
      id = (await api(locals.session!).upgrades.create(body)).id;
    } catch (err) {
      return failFrom(err, cookies);
    }
    redirect(303, `/upgrades/${id}`);
  }
};
