// One upgrade job: its tenants' progress (kept live by the page from the
// job's events), approve the canary, pause, resume, cancel, and roll back the
// job or one tenant (a new job, which the page then shows).
import { error, fail, redirect } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import type { JobAction } from '$contract';
import type { Actions, PageServerLoad } from './$types';

const ID = /^[A-Za-z0-9-]{1,64}$/;
const ACTIONS: readonly JobAction[] = ['approve', 'pause', 'resume', 'cancel'];

export const load: PageServerLoad = async ({ locals, params, cookies }) => {
  if (!ID.test(params.id)) error(404, { message: `"${params.id}" is not a job id` });
  try {
    return { job: await api(locals.session!).upgrades.get(params.id) };
  } catch (err) {
    raise(err, cookies);
  }
};

export const actions: Actions = {
  act: async ({ request, locals, params, cookies }) => {
    const action = String((await request.formData()).get('action') ?? '') as JobAction;
    if (!ACTIONS.includes(action)) return fail(400, { message: 'Unknown action.' });
    try {
      await api(locals.session!).upgrades.act(params.id, action);
      return { done: action };
    } catch (err) {
      return failFrom(err, cookies);
    }
  },
  rollback: async ({ request, locals, params, cookies }) => {
    const tenant = String((await request.formData()).get('tenant') ?? '');
    let id: string;
    try {
      id = (await api(locals.session!).upgrades.rollback(params.id, tenant ? [tenant] : undefined)).id;
    } catch (err) {
      return failFrom(err, cookies);
    }
    redirect(303, `/upgrades/${id}`);
  }
};
