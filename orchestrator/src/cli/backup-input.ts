// What `berth backup` checks before it sends anything: slugs, backup ids and
// the --out file. The API checks the same, but a bad argument should cost no
// request (and a 1 MB one should not travel at all).
//
// The rules are the contract's. cli-imports.test.ts lets only api-types.ts
// load the contract at run time, so the patterns are written out here, typed
// as the contract's string literals: if the contract's rule changes, the
// typecheck fails until this copy says the same.
import type { BACKUP_ID, SLUG_RULE, SLUG_SCHEMA_PATTERN } from '../contract/index.js';
import { EXIT, fail } from './exit.js';
import { shown } from './positionals.js';

const SLUG_PATTERN: typeof SLUG_SCHEMA_PATTERN = '^[a-z](-?[a-z0-9])+$';
const SLUG_WORDS: typeof SLUG_RULE = '3-32 characters of a-z, 0-9 and -, starting with a letter; must not end with - or contain --';
const BACKUP_ID_PATTERN: typeof BACKUP_ID = '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$';

const slugRe = new RegExp(SLUG_PATTERN);
const idRe = new RegExp(BACKUP_ID_PATTERN);
/** Linux's own limit for a path; longer is a mistake, not a file name. */
const PATH_MAX = 4096;

/** The rules as the CLI applies them, for the test that holds them to the contract. */
export const RULES = { slug: SLUG_PATTERN, slugWords: SLUG_WORDS, backupId: BACKUP_ID_PATTERN } as const;

const see = (cmd: string) => ` (see: berth ${cmd} --help)`;

/** The length first: a huge argument never reaches the regular expression. */
export const isSlug = (s: string): boolean => s.length >= 3 && s.length <= 32 && slugRe.test(s);
export const isBackupId = (s: string): boolean => s.length === 23 && idRe.test(s);

export function checkSlug(what: string, s: string, cmd: string): string {
  if (!isSlug(s)) fail(EXIT.usage, 'SLUG_INVALID', `${what} ${shown(s)} is not a team's slug: ${SLUG_WORDS}${see(cmd)}`);
  return s;
}

export function checkBackupId(s: string, cmd: string): string {
  if (!isBackupId(s)) {
    fail(EXIT.usage, 'BACKUP_ID_INVALID', `<id> ${shown(s)} is not a backup id: its UTC time and 6 hex digits, e.g. 20261203T201500Z-a1b2c3 (the ID column of "berth backup list <slug>")${see(cmd)}`);
  }
  return s;
}

export function checkOutPath(s: string, cmd: string): string {
  if (s.length > PATH_MAX || s.includes('\0')) fail(EXIT.usage, 'USAGE', `--out ${shown(s)} is not a usable file name${see(cmd)}`);
  return s;
}
