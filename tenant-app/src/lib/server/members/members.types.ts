export type Role = 'owner' | 'member';

export interface MemberDoc {
  _id: string;
  /** Stored lower-case; unique. */
  email: string;
  name: string;
  role: Role;
  /** pending: invited (or the owner before setup), has a one-time link and no password yet. */
  status: 'pending' | 'active';
  passwordHash: string | null;
  /** SHA-256 of the one-time setup/invite token; null once used. */
  tokenHash: string | null;
  /** null: the link does not expire (the owner's, from the environment). */
  tokenExpiresAt: Date | null;
  invitedBy: string | null;
  createdAt: Date;
}

/** One invitation sent, kept an hour: the team's hourly invitation limit counts these. */
export interface InvitationSentDoc {
  _id: string;
  at: Date;
}

/** What the rest of the app and the pages see of a member. */
export interface Member {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: MemberDoc['status'];
}

export function toMember(doc: MemberDoc): Member {
  return { id: doc._id, email: doc.email, name: doc.name, role: doc.role, status: doc.status };
}
