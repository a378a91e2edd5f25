// Field checks for members. Every length is checked before any pattern, and
// the patterns are linear: a hostile 1 MB value costs microseconds.
import { AppError } from '../errors';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords';

export const EMAIL_MAX = 254;

/**
 * One "@" with something before it and a dotted domain after it, without
 * spaces: checked by index, not by a backtracking pattern (the old
 * /^[^\s@]+@[^\s@]+\.[^\s@]+$/ took seconds on a long crafted value).
 */
export function looksLikeEmail(value: string): boolean {
  if (value.length > EMAIL_MAX || /\s/.test(value)) return false;
  const at = value.indexOf('@');
  if (at < 1 || at !== value.lastIndexOf('@')) return false;
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return dot > 0 && dot < domain.length - 1;
}

export function cleanEmail(raw: unknown): string {
  const email = typeof raw === 'string' && raw.length <= EMAIL_MAX + 64 ? raw.trim().toLowerCase() : '';
  if (!looksLikeEmail(email)) {
    throw new AppError('VALIDATION', 'check the email address', { email: `enter an email address like ana@example.com (at most ${EMAIL_MAX} characters)` });
  }
  return email;
}

export function cleanName(raw: unknown): string {
  const name = typeof raw === 'string' && raw.length <= 1000 ? raw.trim() : '';
  if (name.length < 1 || name.length > 80) throw new AppError('VALIDATION', 'check your name', { name: 'enter a name of 1 to 80 characters' });
  return name;
}

export function cleanPassword(raw: unknown): string {
  const password = typeof raw === 'string' ? raw : '';
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new AppError('VALIDATION', 'choose another password', { password: `use ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` });
  }
  return password;
}
