// The platform-wide cap on self-service teams: one counter per UTC day in the
// platform database, taken with one conditional update, so racing sign-ups
// never pass the cap and every orchestrator process sees the same count.
import type { Collection, Db } from 'mongodb';

interface DayDoc {
  _id: string;
  teams: number;
}

/** The UTC day a time falls on, e.g. "2031-03-04". */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The first moment of the next UTC day. */
export function nextUtcDay(at: Date): Date {
  const next = new Date(at);
  next.setUTCHours(24, 0, 0, 0);
  return next;
}

export class TeamQuotaRepository {
  private readonly days: Collection<DayDoc>;

  constructor(db: Db) {
    this.days = db.collection<DayDoc>('onboarding_team_days');
  }

  /** Teams counted on that day. */
  async count(day: string): Promise<number> {
    return (await this.days.findOne({ _id: day }))?.teams ?? 0;
  }

  /** Counts one team unless `max` were made that day: the count after, or null when the day is full. */
  async take(day: string, max: number): Promise<number | null> {
    try {
      await this.days.updateOne({ _id: day }, { $setOnInsert: { teams: 0 } }, { upsert: true });
    } catch (err) {
      // Two first sign-ups of the day raced to make the counter: it exists now.
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    const doc = await this.days.findOneAndUpdate({ _id: day, teams: { $lt: max } }, { $inc: { teams: 1 } }, { returnDocument: 'after' });
    return doc ? doc.teams : null;
  }

  /** Gives back a team that was refused before anything was made. */
  async release(day: string): Promise<void> {
    await this.days.updateOne({ _id: day, teams: { $gt: 0 } }, { $inc: { teams: -1 } });
  }
}
