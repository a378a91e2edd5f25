import { randomBytes } from 'node:crypto';
import type { LoadedTemplate } from './template.schema.js';

/** A fresh random value (192 bits, URL-safe) for each secret the template declares. */
export function generateSecrets(loaded: LoadedTemplate): Record<string, string> {
  return Object.fromEntries((loaded.template['x-berth'].secrets ?? []).map((name) => [name, randomBytes(24).toString('base64url')]));
}
