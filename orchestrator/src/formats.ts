// JSON-schema formats as Berth means them, one definition for the validator
// and for the code that checks the same values outside a route; and how a
// byte count is said to people (API messages, the CLI).

/**
 * "email": local@domain, one @, no whitespace, at most 254 characters. A dot
 * in the domain is not required: the first operator is admin@localhost, which
 * ajv-formats' email refuses. The length is checked before the pattern, whose
 * two classes cannot overlap at the @, so it runs in linear time.
 */
export const EMAIL_MAX = 254;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function isEmail(value: string): boolean {
  return value.length <= EMAIL_MAX && EMAIL.test(value);
}

/**
 * A pattern for "not only whitespace": one character String.prototype.trim
 * keeps. Spelled out, because "\S" means other characters in other regex
 * engines (Python's, which API clients and fuzzers use, also counts \x1c-\x1f).
 */
export const NOT_BLANK = '[^\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** "1.5 GB" from a gigabyte up, "256 MB" below (binary units, as the kernel and Docker count). */
export function bytesInWords(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GB` : `${Math.round(bytes / MiB)} MB`;
}
