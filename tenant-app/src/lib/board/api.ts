// Browser-side calls to the board's JSON API; each sends the session's CSRF token.
import type { AttachmentInfo, Item, Status } from '$lib/server/board/board.types';

export type { AttachmentInfo, Item, Status };

export class BoardApi {
  constructor(private readonly csrf: string) {}

  private async call<T>(method: string, path: string, body?: BodyInit, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { 'x-csrf-token': this.csrf };
    if (body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(path, { method, headers, body });
    if (!res.ok) {
      const answer = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new Error(answer?.error?.message ?? `${res.status} ${res.statusText}`);
    }
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  move(id: string, status: Status, index: number) {
    return this.call<{ item: Item }>('PATCH', `/api/items/${id}`, JSON.stringify({ status, index }));
  }
  remove(id: string) {
    return this.call<void>('DELETE', `/api/items/${id}`);
  }
  attachments(id: string) {
    return this.call<{ attachments: AttachmentInfo[] }>('GET', `/api/items/${id}/attachments`);
  }
  upload(id: string, file: File) {
    return this.call<{ attachment: AttachmentInfo }>('POST', `/api/items/${id}/attachments?name=${encodeURIComponent(file.name)}`, file, file.type || 'application/octet-stream');
  }
  removeAttachment(id: string, attachmentId: string) {
    return this.call<void>('DELETE', `/api/items/${id}/attachments/${attachmentId}`);
  }
}
