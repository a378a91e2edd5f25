import { AppError } from '../errors';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords';

export function cleanEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
    throw new AppError('VALIDATION', 'check the email address', { email: 'enter an email address like ana@example.com' });
  }
  return email;
}

export function cleanName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
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
