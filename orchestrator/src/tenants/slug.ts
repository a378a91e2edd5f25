// A tenant's slug names its containers, network, volumes, bucket and host
// name, so it must be valid for all of them: DNS label, S3 bucket, Docker name.
export const SLUG_PATTERN = /^[a-z][a-z0-9-]{2,31}$/;

export function slugProblem(slug: string): string | undefined {
  if (!SLUG_PATTERN.test(slug)) {
    return `"${slug}" is not a valid tenant slug: use 3-32 characters of a-z, 0-9 and -, starting with a letter`;
  }
  if (slug.endsWith('-') || slug.includes('--')) return `"${slug}" must not end with - or contain --`;
  return undefined;
}
