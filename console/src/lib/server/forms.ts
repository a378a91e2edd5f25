// Reading form posts safely. A body is refused (413) before it is read when it
// is larger than any form here needs; every field's length is checked before
// any pattern runs on it; and the patterns used are linear, so a crafted value
// never holds up the one Node process that also serves everyone's sign-in.
import { fail, type ActionFailure } from '@sveltejs/kit';

/** The most any form of the console carries; server.js gives adapter-node the same limit (BODY_SIZE_LIMIT). */
export const FORM_MAX_BYTES = 64 * 1024;
export const EMAIL_MAX = 254;

const TOO_LARGE = `This form sent more than ${FORM_MAX_BYTES / 1024} KB, far more than any of its fields holds; shorten what you typed and send it again.`;

export type FormRead = { form: FormData; failure?: undefined } | { form?: undefined; failure: ActionFailure<{ field: 'form'; message: string }> };

/** The form, or a failure to return as is (413: too large, naming the limit). */
export async function readForm(request: Request): Promise<FormRead> {
  if (Number(request.headers.get('content-length') ?? 0) > FORM_MAX_BYTES) return { failure: fail(413, { field: 'form', message: TOO_LARGE }) };
  try {
    return { form: await request.formData() };
  } catch {
    // Past BODY_SIZE_LIMIT without a Content-Length (chunked), or not a form at all.
    return { failure: fail(413, { field: 'form', message: TOO_LARGE }) };
  }
}

/** A field's text, trimmed, or null when it is longer than `max` (checked before anything else looks at it). */
export function field(form: FormData, name: string, max: number, trim = true): string | null {
  const raw = form.get(name);
  const value = typeof raw === 'string' ? raw : '';
  if (value.length > max + 64) return null;
  const text = trim ? value.trim() : value;
  return text.length > max ? null : text;
}

/**
 * Something before one "@" and a dotted domain after it, no spaces: found by
 * index, not by a backtracking pattern (the wizard's old
 * /^[^\s@]+@[^\s@]+\.[^\s@]+$/ took about 10 s on an 80 KB value).
 */
export function looksLikeEmail(value: string): boolean {
  if (value.length > EMAIL_MAX || /\s/.test(value)) return false;
  const at = value.indexOf('@');
  if (at < 1 || at !== value.lastIndexOf('@')) return false;
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return dot > 0 && dot < domain.length - 1;
}
