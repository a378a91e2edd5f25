// The team step's naming help: a slug suggested from the display name, and
// each problem with a typed slug said in words a new team understands. The
// rules themselves stay in contract/slug.ts and contract/reserved.ts (what
// TenantsService.create enforces); this only explains them.
import { RESERVED_SLUGS } from '../contract/reserved.js';
import { slugProblem } from '../contract/slug.js';

const MIN = 3;
const MAX = 32;

/** "Café Zürich GmbH" → "cafe-zurich-gmbh": a valid slug (maybe a reserved or taken one) for any name. */
export function suggestSlug(displayName: string): string {
  let slug = displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(slug)) slug = slug ? `team-${slug}` : 'team';
  slug = trimTo(slug, MAX);
  if (slug.length < MIN) slug = `${slug}-team`;
  return slug;
}

/** What is wrong with `slug` as a team address, in words; undefined when nothing is. */
export function slugAdvice(slug: string): { reason: 'invalid' | 'reserved'; message: string } | undefined {
  const invalid = (message: string) => ({ reason: 'invalid' as const, message });
  if (slug === '') return invalid('Choose the name your team\'s address starts with.');
  const bad = [...new Set(slug.replace(/[a-z0-9-]/g, ''))];
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map((c) => (c === ' ' ? 'spaces' : /[A-Z]/.test(c) ? `capital "${c}"` : `"${c}"`)).join(', ');
    return invalid(`Use only lowercase letters a–z, digits 0–9 and hyphens (-); this has ${shown}.`);
  }
  if (!/^[a-z]/.test(slug)) return invalid('Start with a letter a–z.');
  if (slug.length < MIN) return invalid(`Use at least ${MIN} characters.`);
  if (slug.length > MAX) return invalid(`Use at most ${MAX} characters (this has ${slug.length}).`);
  if (slug.endsWith('-') || slug.includes('--')) return invalid('Do not end with a hyphen or put two hyphens in a row.');
  const rule = slugProblem(slug);
  if (rule) return invalid(rule);
  if (RESERVED_SLUGS.has(slug)) return { reason: 'reserved', message: `"${slug}" is reserved for the platform itself (like www, api or mail); choose another name.` };
  if (slug.startsWith('berth-')) return { reason: 'reserved', message: 'Names starting with "berth-" are reserved for the platform; choose another name.' };
  return undefined;
}

/** Candidates after a taken or reserved slug: slug-2, slug-3, … each cut to fit. */
export function* alternatives(slug: string): Generator<string> {
  const base = slugAdvice(slug)?.reason === 'invalid' ? suggestSlug(slug) : slug;
  if (RESERVED_SLUGS.has(base) || base.startsWith('berth-')) yield trimTo(`${base.replace(/^berth-/, '')}-team`, MAX);
  for (let n = 2; n < 100; n++) yield `${trimTo(base, MAX - String(n).length - 1)}-${n}`;
}

function trimTo(slug: string, length: number): string {
  return slug.slice(0, length).replace(/-+$/, '');
}
