// A tenant's slug names its containers, network, volumes, bucket and host
// name, so it must be valid for all of them: DNS label, S3 bucket, Docker name.
export const SLUG_PATTERN = /^[a-z][a-z0-9-]{2,31}$/;

/**
 * The same rules as one JSON-schema pattern, for the API document and its
 * validator (with minLength 3 and maxLength 32, checked before it): a letter,
 * then letters and digits each optionally after one "-", so no "--" and no
 * trailing "-". Each step consumes a letter or digit, so matching is linear.
 */
export const SLUG_SCHEMA_PATTERN = '^[a-z](-?[a-z0-9])+$';
export const SLUG_RULE = '3-32 characters of a-z, 0-9 and -, starting with a letter; must not end with - or contain --';

export function slugProblem(slug: string): string | undefined {
  if (!SLUG_PATTERN.test(slug)) {
    return `"${slug}" is not a valid tenant slug: use 3-32 characters of a-z, 0-9 and -, starting with a letter`;
  }
  if (slug.endsWith('-') || slug.includes('--')) return `"${slug}" must not end with - or contain --`;
  return undefined;
}
