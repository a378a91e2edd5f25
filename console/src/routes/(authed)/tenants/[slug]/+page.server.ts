// One tenant: its view, its event history and its resource use; actions
// start/stop/restart, freeze/sleep/wake and delete answer with the operation
// id whose progress the page then follows on the events socket; sleepTimes
// sets the team's own sleep times (or clears them) and answers with its view.
import { error, fail } from '@sveltejs/kit';
import { api, ApiError, type TenantAction } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import { field, readForm } from '$lib/server/forms';
import { SLUG_PATTERN } from '$contract';
import type { Actions, PageServerLoad } from './$types';

/** The page's buttons → the API's actions: freeze is sleep without stop, "put to sleep" is sleep with it. */
const ACTIONS: Record<string, { api: TenantAction; stop?: boolean }> = {
  start: { api: 'start' },
  stop: { api: 'stop' },
  restart: { api: 'restart' },
  freeze: { api: 'sleep' },
  sleep: { api: 'sleep', stop: true },
  wake: { api: 'wake' }
};
/** Longer than any duration the API takes (12), short enough that the API's refusal is what the operator reads. */
const SLEEP_FIELD_MAX = 64;

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
    const action = String((await request.formData()).get('action') ?? '');
    const target = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!target) return fail(400, { message: 'Unknown action.', field: 'action' });
    try {
      const { operation } = await api(locals.session!).tenants.action(params.slug, target.api, target.stop ? { stop: true } : {});
      return { operation: operation.id, kind: action };
    } catch (err) {
      return failFrom(err, cookies, { kind: action });
    }
  },
  /** Empty fields follow the plan; `reset` clears both. The API's refusal is shown next to its field. */
  sleepTimes: async ({ request, locals, params, cookies }) => {
    const { form, failure } = await readForm(request);
    // Said in the sleep card, not under the action buttons.
    if (failure) return fail(failure.status, { ...failure.data, kind: 'sleep-times' });
    const reset = form.get('reset') === '1';
    const setting: { pause?: string; stop?: string } = {};
    if (!reset) {
      for (const name of ['pause', 'stop'] as const) {
        const value = field(form, name, SLEEP_FIELD_MAX);
        if (value === null) return fail(400, { kind: 'sleep-times', field: name, message: `${name}: a duration such as 30s, 15m, 12h or 7d, or never (this is far longer)` });
        if (value !== '') setting[name] = value;
      }
    }
    try {
      const tenant = await api(locals.session!).tenants.setSleep(params.slug, setting);
      return { kind: 'sleep-times', saved: tenant.sleep };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'sleep-times' });
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
