// Attachments: bytes in MinIO under items/<itemId>/<128-bit id>, metadata in
// MongoDB. The metadata is written only after the object is complete, so a
// failed upload leaves neither. With a storage quota, every upload first
// reserves its size in the ledger (quota.ts) and every removal gives it back.
import { pipeline, Readable } from 'node:stream';
import { collections } from '../db';
import { config } from '../config';
import { AppError } from '../errors';
import { log } from '../log';
import type { Member } from '../members/members.types';
import { hub } from '../realtime/hub';
import { BucketQuotaExceeded, getObjectStream, putObjectStream, removeObjects } from '../storage';
import { randomId } from '../tokens';
import type { AttachmentInfo } from '../board/board.types';
import { toAttachment, type AttachmentDoc } from './attachments.types';
import { storageFull, storageLedger, type Reservation } from './quota';
import { SizeLimit, tooLarge } from './size-limit';

export interface Upload {
  name: string;
  contentType: string;
  /** From the Content-Length header; required so the object store gets a known size. */
  size: number | undefined;
  body: ReadableStream<Uint8Array> | null;
}

async function requireItem(itemId: string): Promise<void> {
  if (!(await collections.items().findOne({ _id: itemId }, { projection: { _id: 1 } }))) throw new AppError('NOT_FOUND', 'no such item');
}

function cleanName(raw: string): string {
  // Shown in the UI and sent back in Content-Disposition: no control characters or paths.
  const name = raw.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim().slice(0, 200);
  return name || 'file';
}

export async function uploadAttachment(by: Member, itemId: string, upload: Upload): Promise<AttachmentInfo> {
  const limit = config().attachmentMaxBytes;
  if (upload.size === undefined) throw new AppError('LENGTH_REQUIRED', 'send the file with a Content-Length header');
  if (upload.size > limit) throw tooLarge(limit, upload.size);
  if (!upload.body || upload.size === 0) throw new AppError('VALIDATION', 'the file is empty', { file: 'choose a file that is not empty' });
  await requireItem(itemId);
  const id = randomId();
  const doc: AttachmentDoc = {
    _id: id, itemId, key: `items/${itemId}/${id}`, name: cleanName(upload.name),
    contentType: /^[\w.+-]+\/[\w.+-]+$/.test(upload.contentType) ? upload.contentType : 'application/octet-stream',
    size: upload.size, uploadedBy: by.id, createdAt: new Date()
  };
  const ledger = storageLedger();
  // Refused here, before a byte of the body is read, when it would not fit.
  const room: Reservation | undefined = await ledger?.reserve(upload.size);
  try {
    // pipeline, not pipe: a client that disconnects must fail the PUT, not leave it waiting.
    const limited = new SizeLimit(limit);
    pipeline(Readable.fromWeb(upload.body as import('node:stream/web').ReadableStream<Uint8Array>), limited, () => {});
    await putObjectStream(doc.key, limited, upload.size, doc.contentType);
  } catch (err) {
    room?.released();
    if (!(err instanceof BucketQuotaExceeded)) throw err;
    // MinIO's own quota said no (its figures lag, so rarely before ours does).
    throw ledger?.usedBytes !== undefined ? storageFull(ledger.usedBytes, ledger.quota, upload.size) : storageFull(undefined, undefined, upload.size);
  }
  try {
    await collections.attachments().insertOne(doc);
  } catch (err) {
    const removed = await removeObjects([doc.key]).then(() => true, () => false);
    if (removed) room?.released();
    else room?.stored();
    throw err;
  }
  room?.stored();
  const attachment = toAttachment(doc);
  log().info({ item: itemId, attachment: id, size: doc.size }, 'attachment stored');
  hub.publish({ type: 'attachment.added', attachment, by: by.id });
  return attachment;
}

export async function listAttachments(itemId: string): Promise<AttachmentInfo[]> {
  await requireItem(itemId);
  return (await collections.attachments().find({ itemId }).sort({ createdAt: 1 }).toArray()).map(toAttachment);
}

/** Only through the item it belongs to: an id taken from another item is "not found". */
async function find(itemId: string, attachmentId: string): Promise<AttachmentDoc> {
  const doc = await collections.attachments().findOne({ _id: attachmentId, itemId });
  if (!doc) throw new AppError('NOT_FOUND', 'no such attachment on this item');
  return doc;
}

export async function openAttachment(itemId: string, attachmentId: string): Promise<{ info: AttachmentInfo; stream: Readable }> {
  const doc = await find(itemId, attachmentId);
  return { info: toAttachment(doc), stream: await getObjectStream(doc.key) };
}

/** The uploader or the owner. The record goes first: a leftover object is garbage, never a dangling link. */
export async function deleteAttachment(by: Member, itemId: string, attachmentId: string): Promise<void> {
  const doc = await find(itemId, attachmentId);
  if (doc.uploadedBy !== by.id && by.role !== 'owner') throw new AppError('FORBIDDEN', 'only who uploaded the file, or the owner, deletes it');
  await collections.attachments().deleteOne({ _id: doc._id });
  await removeStored([doc.key], doc.size);
  hub.publish({ type: 'attachment.removed', itemId, attachmentId, by: by.id });
}

export async function removeAllAttachments(itemId: string): Promise<void> {
  const docs = await collections.attachments().find({ itemId }).toArray();
  await collections.attachments().deleteMany({ itemId });
  await removeStored(docs.map((d) => d.key), docs.reduce((sum, d) => sum + d.size, 0));
}

/** Removes objects whose records are gone; one left behind is garbage that still counts against the quota. */
async function removeStored(keys: string[], bytes: number): Promise<void> {
  const remove = () => removeObjects(keys).then(() => true, (err: Error) => {
    log().warn({ keys: keys.slice(0, 10), error: err.message }, 'objects not removed');
    return false;
  });
  const ledger = storageLedger();
  if (ledger) await ledger.removing(bytes, remove);
  else await remove();
}
