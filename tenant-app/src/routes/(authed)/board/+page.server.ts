import { AppError } from '$lib/server/errors';
import { createItem, listItems, updateItem } from '$lib/server/board/board.service';
import { formFailure, formValues } from '$lib/server/http/forms';
import { listMembers } from '$lib/server/members/members.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
  const [items, members] = await Promise.all([listItems({}), listMembers()]);
  return { items, members: members.filter((m) => m.status === 'active').map(({ id, name }) => ({ id, name })) };
};

const FIELDS = ['title', 'description', 'status', 'assigneeId'];

export const actions: Actions = {
  create: async ({ request, locals }) => {
    const values = formValues(await request.formData(), FIELDS);
    try {
      if (!locals.member) throw new AppError('UNAUTHENTICATED');
      return { created: (await createItem(locals.member, values)).id };
    } catch (err) {
      return formFailure(err, values);
    }
  },
  update: async ({ request, locals }) => {
    const data = await request.formData();
    const values = formValues(data, ['id', ...FIELDS]);
    try {
      if (!locals.member) throw new AppError('UNAUTHENTICATED');
      const { id, ...fields } = values;
      return { updated: (await updateItem(locals.member, id ?? '', fields)).id };
    } catch (err) {
      return formFailure(err, values);
    }
  }
};
