export interface SessionDoc {
  /** SHA-256 of the cookie's token: the token itself is never stored. */
  _id: string;
  memberId: string;
  /** Sent back in x-csrf-token by fetch() calls to /api; random per session. */
  csrf: string;
  createdAt: Date;
  expiresAt: Date;
}
