import { MongoClient, type Collection, type Db } from 'mongodb';
import { config } from './config';
import type { AttachmentDoc } from './attachments/attachments.types';
import type { ItemDoc } from './board/board.types';
import type { InvitationSentDoc, MemberDoc } from './members/members.types';
import type { SessionDoc } from './sessions/sessions.types';

let client: MongoClient | undefined;

export function mongo(): MongoClient {
  const { mongoUrl, checkTimeoutMs } = config();
  // A short server-selection timeout makes a dead database show up in
  // /healthz within the probe's budget instead of after the driver's 30 s.
  // minHeartbeatFrequencyMS: while an operation waits for a server (the
  // database starting beside the app), the driver checks again this often
  // instead of every 500 ms, so the app sees the database the moment it listens.
  client ??= new MongoClient(mongoUrl, { serverSelectionTimeoutMS: checkTimeoutMs, minHeartbeatFrequencyMS: 50, appName: 'berth-tenant-app' });
  return client;
}

export function db(): Db {
  return mongo().db();
}

/** The app's collections, typed; the names are part of the schema (see migrations/). */
export const collections = {
  members: (): Collection<MemberDoc> => db().collection<MemberDoc>('members'),
  sessions: (): Collection<SessionDoc> => db().collection<SessionDoc>('sessions'),
  items: (): Collection<ItemDoc> => db().collection<ItemDoc>('items'),
  attachments: (): Collection<AttachmentDoc> => db().collection<AttachmentDoc>('attachments'),
  invitationsSent: (): Collection<InvitationSentDoc> => db().collection<InvitationSentDoc>('invitations_sent')
};

export async function pingDb(): Promise<void> {
  await db().command({ ping: 1 });
}

export async function closeDb(): Promise<void> {
  const closing = client;
  client = undefined;
  await closing?.close();
}

/**
 * Drops the client after a failed first connect: the driver closes its
 * topology then, and every later call on that client fails with "Topology
 * is closed", so the next attempt needs a new one.
 */
export async function resetDb(): Promise<void> {
  await closeDb().catch(() => {});
}
