// A team's Backups tab: its backups (newest first) and, with ?restore=<id>
// (and &into=<slug> for a new team), what restoring that one would do. A
// deleted team's backups are kept: its tab still lists them, and a restore
// makes it again. Actions: backup (now), restore (over the team with its
// slug typed, or into a new team) and delete answer with what the page then
// follows; the API refuses what the session's scope does not allow.
import { error, fail } from '@sveltejs/kit';
import { api, ApiError, type Api } from '$lib/server/api';
import { failFrom, raise } from '$lib/server/errors';
import { field, readForm } from '$lib/server/forms';
import { BACKUP_ID, SLUG_PATTERN } from '$contract';
import type { RestoreView } from '$lib/backups';
import type { Actions, PageServerLoad } from './$types';

const ID = new RegExp(BACKUP_ID);
/** Longer than any slug or backup id; past it the console answers without asking the API. */
const FIELD_MAX = 64;

async function previewOf(client: Api, slug: string, id: string, into: string | undefined): Promise<RestoreView> {
  if (!ID.test(id)) return { id, error: { message: `"${id.slice(0, FIELD_MAX)}" is not a backup id`, field: 'restore' } };
  if (into !== undefined && !SLUG_PATTERN.test(into)) {
    return { id, into: into.slice(0, FIELD_MAX), error: { message: 'A team name: 3 to 32 lowercase letters, digits and hyphens, starting with a letter.', field: 'into' } };
  }
  try {
    return { id, into, preview: await client.backups.preview(slug, id, into) };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    return { id, into, error: { message: err.message, code: err.code, field: err.field } };
  }
}

export const load: PageServerLoad = async ({ locals, params, url, cookies }) => {
  if (!SLUG_PATTERN.test(params.slug)) error(404, { message: `"${params.slug}" is not a team name` });
  const client = api(locals.session!);
  const restore = url.searchParams.get('restore');
  const named = url.searchParams.get('into')?.trim() || undefined;
  // Into the team itself is a restore over it, whatever the field says.
  const into = named === params.slug ? undefined : named;
  try {
    const [tenant, backups] = await Promise.all([
      client.tenants.get(params.slug).catch((err) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
      client.backups.list(params.slug)
    ]);
    if (!tenant && backups.length === 0) error(404, { message: `No team "${params.slug}", and no backups of one.` });
    return { slug: params.slug, tenant, backups, restore: restore ? await previewOf(client, params.slug, restore, into) : null };
  } catch (err) {
    raise(err, cookies);
  }
};

export const actions: Actions = {
  backup: async ({ locals, params, cookies }) => {
    try {
      const { backup, operation } = await api(locals.session!).backups.create(params.slug);
      return { kind: 'backup', operation: operation.id, backup: backup.id };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'backup' });
    }
  },
  /** Over the team: `confirm` must be its slug (checked here first, and by the API). Into a new team: `into`. */
  restore: async ({ request, locals, params, cookies }) => {
    const { form, failure } = await readForm(request);
    if (failure) return fail(failure.status, { ...failure.data, kind: 'restore' });
    const id = field(form, 'id', FIELD_MAX);
    const named = field(form, 'into', FIELD_MAX) || undefined;
    const into = named === params.slug ? undefined : named;
    const confirm = field(form, 'confirm', FIELD_MAX) ?? '';
    const over = form.get('over') === '1';
    if (!id || !ID.test(id)) return fail(400, { kind: 'restore', field: 'id', message: 'Not a backup id.' });
    if (into !== undefined && !SLUG_PATTERN.test(into)) return fail(400, { kind: 'restore', field: 'into', message: 'Not a team name.' });
    if (over && into === undefined && confirm !== params.slug) {
      return fail(400, { kind: 'restore', field: 'confirm', message: `Type "${params.slug}" to confirm that its data is replaced.` });
    }
    try {
      const reply = await api(locals.session!).backups.restore(params.slug, id, into ? { into } : over ? { confirm } : {});
      return { kind: 'restore', operation: reply.operation.id, tenant: reply.tenant, backup: id, safety: reply.safety };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'restore' });
    }
  },
  delete: async ({ request, locals, params, cookies }) => {
    const { form, failure } = await readForm(request);
    if (failure) return fail(failure.status, { ...failure.data, kind: 'delete' });
    const id = field(form, 'id', FIELD_MAX);
    if (!id || !ID.test(id)) return fail(400, { kind: 'delete', field: 'id', message: 'Not a backup id.' });
    try {
      await api(locals.session!).backups.delete(params.slug, id);
      return { kind: 'delete', deleted: id };
    } catch (err) {
      return failFrom(err, cookies, { kind: 'delete', id });
    }
  }
};
