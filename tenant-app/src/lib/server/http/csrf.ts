// Form actions are covered by SvelteKit's origin check (kit.csrf). fetch()
// calls to /api send JSON or raw bytes, which that check does not cover, so
// every non-GET /api request must carry the session's own random token in
// x-csrf-token: a page on another origin cannot read it, so it cannot send it.
import { AppError } from '../errors';
import type { SessionDoc } from '../sessions/sessions.types';
import { sameString } from '../tokens';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkApiCsrf(request: Request, session: SessionDoc | null): void {
  if (SAFE.has(request.method) || !session) return; // no session: the endpoint answers 401 itself
  const sent = request.headers.get(CSRF_HEADER) ?? '';
  if (!sameString(sent, session.csrf)) throw new AppError('CSRF_TOKEN_INVALID');
}
