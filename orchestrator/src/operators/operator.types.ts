// The operator domain's records and what the API shows of them.
import type { Sealed } from '../crypto/secret-box.js';
import type { OperatorView } from './operators.schema.js';
import type { OperatorStatus } from './operators.schema.js';
import type { PasswordHash } from './passwords.js';

// The list lives in the schema (a leaf the contract re-exports).
export { OPERATOR_STATUSES, type OperatorStatus } from './operators.schema.js';

/** Collection `operators`. `_id` is the operator id. */
export interface OperatorDoc {
  _id: string;
  /** Unique, lower-cased. */
  email: string;
  name: string;
  status: OperatorStatus;
  passwordHash?: PasswordHash;
  /** The TOTP secret sealed with the platform key, context = operator id; while pending, the one being enrolled. */
  totpSecret?: Sealed;
  /** The last TOTP time step accepted: that one and every earlier one are refused (replay). */
  lastTotpStep?: number;
  /** Mirrors the lock on this address (sign-in-failures.repository.ts holds the count) for the operators list. */
  lockedUntil?: Date;
  /** SHA-256 (hex) of the one-time setup token; never the token. */
  setupTokenHash?: string;
  setupExpiresAt?: Date;
  createdAt: Date;
  /** "bootstrap", or the principal that made it (operator id or API token id). */
  createdBy: string;
}

/** Collection `operator_sessions`. `_id` is SHA-256 (hex) of the session token. */
export interface SessionDoc {
  _id: string;
  operatorId: string;
  createdAt: Date;
  expiresAt: Date;
}

export function operatorView(doc: OperatorDoc, now: Date): OperatorView {
  const view: OperatorView = { id: doc._id, email: doc.email, name: doc.name, status: doc.status, createdAt: doc.createdAt.toISOString() };
  if (doc.lockedUntil && doc.lockedUntil > now) view.lockedUntil = doc.lockedUntil.toISOString();
  return view;
}
