// The contract between the auth domain and the rest of the API.
import { SCOPES } from './tokens.schema.js';

export { SCOPES };
export type Scope = (typeof SCOPES)[number];

interface PrincipalBase {
  /** An API token's id, or "session:<first 8 hex of the session hash>" for an operator (the audit log's actor). */
  tokenId: string;
  /** The token's name, or the operator's email. */
  name: string;
  scope: Scope;
}

/**
 * Who made a request: an API token (kind absent or 'token', as TokensService
 * returns it) or an operator signed in to the console (password + TOTP).
 */
export type Principal =
  | (PrincipalBase & { kind?: 'token' })
  | (PrincipalBase & { kind: 'operator'; operatorId: string });

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The least scope a route needs; 'public' skips auth. A route without one needs 'admin' (fail closed). */
    scope?: Scope | 'public';
  }
}

/** Scopes are ordered: admin ⊇ write ⊇ read. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}
