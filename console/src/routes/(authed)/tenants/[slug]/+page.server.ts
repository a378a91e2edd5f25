// One tenant: its view, its event history and its resource use; actions
// start/stop/restart/delete answer with the operation id whose progress the
// page then follows on the events socket.
import { error, fail } from '@sveltejs/kit';
import { api, ApiError, type TenantAction } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import { SLUG_PATTERN } from '$contract';
import type { Actions, PageServerLoad } from './$types';

const ACTIONS: readonly TenantAction[] = ['start', 'stop', 'restart'];

export const load: PageServerLoad = async ({ locals, params, cookies }) => {
  if (!SLUG_PATTERN.test(params.slug)) error(404, { message: `"${params.slug}" is not a team name` });
  const client = api(locals.session!);
  try {
    const [tenant, events, stats] = await Promise.all([
      client.tenants.get(params.slug),
      client.tenants.events(params.slug, 200),
      // Resource use is a nice-to-have: a stats endpoint that is missing or fails leaves the card empty.
      client.tenants.stats(params.slug).catch((err) => {
        if (err instanceof ApiError && err.status !== 401) return null;
        throw err;
      })
    ]);
    return { tenant: stats ? { ...tenant, stats } : tenant, events };
  } catch (err) {
    raise(err, cookies);
  }
};

export const actions: Actions = {
  act: async ({ request, locals, params, cookies }) => {
    const action = String((await request.formData()).get('action') ?? '') as TenantAction;
    if (!ACTIONS.includes(action)) return fail(400, { message: 'Unknown action.', field: 'action' });
    try {
      const { operation } = await api(locals.session!).tenants.action(params.slug, action);
      return { operation: operation.id, kind: action };
    } catch (err) {
      return failFrom(err, cookies, { kind: action });
    }
  },
  ownerLink: async ({ locals, params, cookies }) => {
    try {
      const { url, expiresAt, operation } = await api(locals.session!).tenants.ownerLink(params.slug);
      return { operation: operation.id, kind: 'owner-link', ownerLink: { url, expiresAt } };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'owner-link' });
    }
  },
  delete: async ({ request, locals, params, cookies }) => {
    const form = await request.formData();
    const deleteData = form.get('deleteData') === 'on';
    const confirm = String(form.get('confirm') ?? '').trim();
    if (deleteData && confirm !== params.slug) {
      return fail(400, { kind: 'delete', field: 'confirm', message: `Type "${params.slug}" to confirm that its data goes too.` });
    }
    try {
      const { operation } = await api(locals.session!).tenants.delete(params.slug, deleteData, confirm);
      return { operation: operation.id, kind: 'delete' };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'delete' });
    }
  }
};
