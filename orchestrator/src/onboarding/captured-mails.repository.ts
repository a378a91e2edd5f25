// Mails the development SMTP sink captured, in the platform database, capped:
// only the newest `keep` stay. Operators read them on the console's Mail page.
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { CapturedMailView } from './onboarding.schema.js';

/** A mail as GET /onboarding/mails shows it, raw message included; envelope: who the sink was told it is from and for. */
export type CapturedMail = Required<CapturedMailView>;

interface MailDoc extends Omit<CapturedMail, 'id' | 'at'> {
  _id: string;
  at: Date;
}

export class CapturedMailsRepository {
  private readonly mails: Collection<MailDoc>;

  constructor(db: Db, private readonly keep: number, private readonly clock: () => Date) {
    this.mails = db.collection<MailDoc>('onboarding_mails');
  }

  async init(): Promise<void> {
    await this.mails.createIndex({ at: -1 });
  }

  async add(mail: Omit<CapturedMail, 'id' | 'at'>): Promise<void> {
    await this.mails.insertOne({ _id: randomUUID(), at: this.clock(), ...mail });
    const oldest = await this.mails.find({}, { projection: { at: 1 } }).sort({ at: -1 }).skip(this.keep).limit(1).next();
    if (oldest) await this.mails.deleteMany({ at: { $lte: oldest.at } });
  }

  async list(limit: number): Promise<CapturedMail[]> {
    const docs = await this.mails.find({}).sort({ at: -1 }).limit(limit).toArray();
    return docs.map(({ _id, at, ...rest }) => ({ id: _id, at: at.toISOString(), ...rest }));
  }
}
