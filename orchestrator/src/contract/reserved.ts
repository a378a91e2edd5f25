import { BerthError } from '../errors.js';
import { slugProblem } from './slug.js';

// Host names the platform itself uses or that users would mistake for it.
export const RESERVED_SLUGS = new Set([
  'www', 'api', 'console', 'admin', 'app', 'apps', 'auth', 'login', 'mail', 'smtp', 'imap', 'ftp',
  'ns1', 'ns2', 'dns', 'cdn', 'static', 'assets', 'status', 'metrics', 'health', 'docs', 'help',
  'support', 'billing', 'root', 'system', 'berth', 'platform', 'onboard', 'signup', 'dashboard',
  'localhost', 'internal', 'proxy', 'nginx', 'registry', 'git'
]);
/** Names of the platform's own objects start with this; no tenant slug may. */
export const RESERVED_PREFIX = 'berth-';

/** Throws SLUG_INVALID or SLUG_RESERVED with a message that says what to do. */
export function assertValidSlug(slug: string): void {
  const problem = slugProblem(slug);
  if (problem) throw new BerthError('SLUG_INVALID', problem, { field: 'slug' });
  if (RESERVED_SLUGS.has(slug) || slug.startsWith(RESERVED_PREFIX)) {
    throw new BerthError('SLUG_RESERVED', `"${slug}" is reserved for the platform; choose another slug`, { field: 'slug' });
  }
}
