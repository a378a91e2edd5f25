// The API types the CLI reads and sends, in one place: after the contract
// (orchestrator/src/contract) lands, these re-point there and nothing else in
// cli/ changes. Only type imports and constant-only modules: the CLI must not
// load the server's code (fastify, mongodb, dockerode) to list tenants.
import type { TenantView } from '../tenants/tenant.types.js';
import type { JobView, Selection } from '../upgrades/upgrade.types.js';
import type { VersionInfo } from '../upgrades/selection.js';
import type { TokenInfo } from '../auth/tokens.service.js';

export { SCOPES, type Scope } from '../auth/auth.types.js';
export type { JobView, Selection, TenantView, VersionInfo };

/** A type as JSON carries it: dates are strings. */
type Wire<T> = { [K in keyof T]: T[K] extends Date | undefined ? string | Extract<T[K], undefined> : T[K] };

export type TokenView = Wire<TokenInfo>;
export interface TenantList { tenants: TenantView[] }
export interface TokenList { tokens: TokenView[] }
export interface TokenCreated extends TokenView { token: string }
export interface VersionList { repository?: string; versions: VersionInfo[] }
export interface JobList { jobs: JobView[] }
export interface Preview {
  tenants: { slug: string; phase: string; from: string; to: string; canary: boolean }[];
  skipped: { slug: string; reason: string }[];
}
export interface OwnerLink { url: string; expiresAt: string; operation: { id: string } }
/** The body of POST /upgrades and /upgrades/preview. */
export interface JobBody extends Selection {
  toVersion: string;
  canary?: number;
  concurrency?: number;
  maxFailures?: number;
  healthTimeoutSeconds?: number;
  autoApprove?: boolean;
}
