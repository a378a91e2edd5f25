import { json } from '@sveltejs/kit';
import { createItem, listAllJson, listItems } from '$lib/server/board/board.service';
import { cleanFilter } from '$lib/server/board/board.validate';
import { api, readJson } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = api(async ({ url }) => {
  const filter = cleanFilter(url.searchParams);
  if (Object.keys(filter).length === 0) return new Response(await listAllJson(), { headers: { 'content-type': 'application/json' } });
  return json({ items: await listItems(filter) });
});

export const POST: RequestHandler = api(async ({ request }, member) => json({ item: await createItem(member, await readJson(request)) }, { status: 201 }));
