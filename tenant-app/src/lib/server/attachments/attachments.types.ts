import type { AttachmentInfo } from '../board/board.types';

export interface AttachmentDoc {
  /** 128 random bits; also the last part of the object key. */
  _id: string;
  itemId: string;
  /** items/<itemId>/<_id>: bound to the item, and not guessable. */
  key: string;
  name: string;
  contentType: string;
  size: number;
  uploadedBy: string;
  createdAt: Date;
}

export function toAttachment(doc: AttachmentDoc): AttachmentInfo {
  return { id: doc._id, itemId: doc.itemId, name: doc.name, contentType: doc.contentType, size: doc.size, uploadedBy: doc.uploadedBy, createdAt: doc.createdAt.toISOString() };
}
