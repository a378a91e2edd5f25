import { json } from '@sveltejs/kit';
import { deleteItem, getItem, moveItem, updateItem } from '$lib/server/board/board.service';
import { cleanMove } from '$lib/server/board/board.validate';
import { api, readJson } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = api(async ({ params }) => json({ item: await getItem(params.id) }));

/** Edits fields; a body with `index` is a move: `{ status, index }`. */
export const PATCH: RequestHandler = api(async ({ params, request }, member) => {
  const body = await readJson(request);
  if (body.index !== undefined) {
    const { status, index } = cleanMove(body);
    return json({ item: await moveItem(member, params.id, status, index) });
  }
  return json({ item: await updateItem(member, params.id, body) });
});

export const DELETE: RequestHandler = api(async ({ params }, member) => {
  await deleteItem(member, params.id);
  return new Response(null, { status: 204 });
});
