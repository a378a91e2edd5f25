// The team's hourly invitation limit: every invitation sent (mailed through
// the platform's relay, or shown as a link) is recorded for an hour, in the
// database, so a restart or a second app instance (blue/green) forgets
// nothing, and removing the invited member gives nothing back. Only the owner
// invites, so a check-then-insert race can overshoot by a request or two at
// most; the platform's relay has its own hard quota behind this one.
import { collections } from '../db';
import { config } from '../config';
import { AppError } from '../errors';
import { randomId } from '../tokens';

const HOUR_MS = 3_600_000;

export async function takeInvitation(now = new Date()): Promise<void> {
  const sent = collections.invitationsSent();
  const since = new Date(now.getTime() - HOUR_MS);
  await sent.deleteMany({ at: { $lt: since } });
  const limit = config().invitesPerHour;
  const recent = await sent.find({ at: { $gte: since } }).sort({ at: 1 }).limit(limit).toArray();
  if (recent.length >= limit) {
    const retryAfterS = Math.max(1, Math.ceil((recent[0]!.at.getTime() + HOUR_MS - now.getTime()) / 1000));
    const minutes = Math.ceil(retryAfterS / 60);
    throw new AppError('RATE_LIMITED', `your team has sent its ${limit} invitations this hour; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, undefined, retryAfterS);
  }
  await sent.insertOne({ _id: randomId(), at: now });
}
