export const STATUSES = ['todo', 'doing', 'done'] as const;
export type Status = (typeof STATUSES)[number];

export interface ItemDoc {
  _id: string;
  title: string;
  description: string;
  status: Status;
  assigneeId: string | null;
  /** Position within its column: smaller first; moves take the midpoint of their neighbours. */
  order: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Item {
  id: string;
  title: string;
  description: string;
  status: Status;
  assigneeId: string | null;
  order: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export function toItem(doc: ItemDoc): Item {
  return {
    id: doc._id, title: doc.title, description: doc.description, status: doc.status, assigneeId: doc.assigneeId,
    order: doc.order, createdBy: doc.createdBy, createdAt: doc.createdAt.toISOString(), updatedAt: doc.updatedAt.toISOString()
  };
}

export interface AttachmentInfo {
  id: string;
  itemId: string;
  name: string;
  contentType: string;
  size: number;
  uploadedBy: string;
  createdAt: string;
}

export type BoardEvent =
  | { type: 'item.created' | 'item.updated'; item: Item; by: string }
  | { type: 'item.deleted'; itemId: string; by: string }
  | { type: 'attachment.added'; attachment: AttachmentInfo; by: string }
  | { type: 'attachment.removed'; itemId: string; attachmentId: string; by: string };

export interface ItemFilter {
  status?: Status;
  /** A member id, or "none" for unassigned items. */
  assignee?: string;
  /** Words in the title or description. */
  q?: string;
}

export interface ItemInput {
  title: string;
  description: string;
  status: Status;
  assigneeId: string | null;
}
