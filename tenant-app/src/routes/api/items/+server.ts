import { json } from '@sveltejs/kit';
import { createItem, listAllBody, listItems } from '$lib/server/board/board.service';
import { cleanFilter } from '$lib/server/board/board.validate';
import { api, readJson } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

/** Every member sees the same board, but only members do: caches may keep it, and must ask again before using it. */
const CACHE_CONTROL = 'private, no-cache';

/** Whether an If-None-Match header names this strong ETag (or is `*`). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

export const GET: RequestHandler = api(async ({ url, request }) => {
  const filter = cleanFilter(url.searchParams);
  if (Object.keys(filter).length === 0) {
    // The whole board: bytes made once per version, and 304 when the client has them.
    const { json: body, etag } = await listAllBody();
    if (matches(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers: { etag, 'cache-control': CACHE_CONTROL } });
    return new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(body.length), etag, 'cache-control': CACHE_CONTROL } });
  }
  return json({ items: await listItems(filter) });
});

export const POST: RequestHandler = api(async ({ request }, member) => json({ item: await createItem(member, await readJson(request)) }, { status: 201 }));
