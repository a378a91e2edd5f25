import { json } from '@sveltejs/kit';
import { listAttachments, uploadAttachment } from '$lib/server/attachments/attachments.service';
import { config } from '$lib/server/config';
import { api, discardBody } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = api(async ({ params }) => json({ attachments: await listAttachments(params.id) }));

/**
 * The file is the raw request body (fetch(url, { body: file })), its name in
 * ?name=, its type in Content-Type: no multipart parsing, so the bytes go
 * straight through to the object store as they arrive.
 */
export const POST: RequestHandler = api(async ({ params, request, url }, member) => {
  const length = request.headers.get('content-length');
  try {
    const attachment = await uploadAttachment(member, params.id, {
      name: url.searchParams.get('name') ?? 'file',
      contentType: request.headers.get('content-type') ?? 'application/octet-stream',
      size: length === null || !/^\d+$/.test(length) ? undefined : Number(length),
      body: request.body
    });
    return json({ attachment }, { status: 201 });
  } catch (err) {
    // Refused before the body was read (storage full, no such item): read
    // it off the connection, or the client still sending it meets a reset
    // instead of our answer, and keep-alive breaks.
    await discardBody(request, config().attachmentMaxBytes);
    throw err;
  }
});
