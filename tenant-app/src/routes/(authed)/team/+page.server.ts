import { AppError } from '$lib/server/errors';
import { formFailure, formValues } from '$lib/server/http/forms';
import { invite, listMembers, removeMember } from '$lib/server/members/members.service';
import { unassignMember } from '$lib/server/board/board.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ members: await listMembers() });

export const actions: Actions = {
  invite: async ({ request, locals, url, setHeaders }) => {
    const data = await request.formData();
    const values = formValues(data, ['email']);
    try {
      if (!locals.member) throw new AppError('UNAUTHENTICATED');
      const invitation = await invite(locals.member, data.get('email'), url.origin);
      return { invited: invitation.member.email, link: invitation.link };
    } catch (err) {
      if (err instanceof AppError && err.retryAfterSeconds) setHeaders({ 'retry-after': String(err.retryAfterSeconds) });
      return formFailure(err, values);
    }
  },
  remove: async ({ request, locals }) => {
    const data = await request.formData();
    try {
      if (!locals.member) throw new AppError('UNAUTHENTICATED');
      const id = String(data.get('id') ?? '');
      await removeMember(locals.member, id);
      await unassignMember(locals.member, id);
      return { removed: id };
    } catch (err) {
      return formFailure(err);
    }
  }
};
