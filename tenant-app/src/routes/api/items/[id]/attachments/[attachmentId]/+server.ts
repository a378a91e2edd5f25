import { Readable } from 'node:stream';
import { deleteAttachment, openAttachment } from '$lib/server/attachments/attachments.service';
import { api } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

/** Streams from MinIO. Always a download, never rendered: a file is not a page on our origin. */
export const GET: RequestHandler = api(async ({ params }) => {
  const { info, stream } = await openAttachment(params.id, params.attachmentId);
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
    headers: {
      'content-type': info.contentType,
      'content-length': String(info.size),
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(info.name)}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, no-store'
    }
  });
});

export const DELETE: RequestHandler = api(async ({ params }, member) => {
  await deleteAttachment(member, params.id, params.attachmentId);
  return new Response(null, { status: 204 });
});
