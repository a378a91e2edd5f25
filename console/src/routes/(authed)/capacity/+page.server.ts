import { fail } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import type { MeasureRequest } from '$contract';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  const client = api(locals.session!);
  try {
    const [capacity, measurements] = await Promise.all([client.capacity(), client.measurements.list()]);
    const last = measurements[0] ? await client.measurements.get(measurements[0].id) : null;
    return { capacity, measurements, last };
  } catch (err) {
    raise(err, cookies);
  }
};

/** A whole number within bounds from the form, or what is wrong with it (the API checks again). */
function whole(form: FormData, name: string, label: string, min: number, max: number): number | { field: string; message: string } {
  const v = String(form.get(name) ?? '').trim();
  const n = Number(v);
  if (!/^[0-9]{1,7}$/.test(v) || n < min || n > max) return { field: name, message: `${label}: a whole number from ${min} to ${max}.` };
  return n;
}

export const actions: Actions = {
  measure: async ({ request, locals, cookies }) => {
    const form = await request.formData();
    const teams = whole(form, 'teams', 'Teams', 1, 200);
    const minutes = whole(form, 'minutes', 'Minutes', 1, 60);
    for (const x of [teams, minutes]) if (typeof x !== 'number') return fail(400, x);
    const body: MeasureRequest = { teams: teams as number, durationSeconds: (minutes as number) * 60, check: form.get('check') === 'on' };
    try {
      return { started: (await api(locals.session!).measurements.start(body)).id };
    } catch (err) {
      return failFrom(err, cookies);
    }
  },
  cancel: async ({ request, locals, cookies }) => {
    const id = String((await request.formData()).get('id') ?? '').slice(0, 64);
    try {
      return { cancelled: (await api(locals.session!).measurements.cancel(id)).id };
    } catch (err) {
      return failFrom(err, cookies);
    }
  }
};
