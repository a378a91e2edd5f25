// The contract between the auth domain and the rest of the API.
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tokenId: string;
  name: string;
  scope: Scope;
}

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
