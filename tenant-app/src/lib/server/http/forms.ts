// Form actions: an AppError becomes fail(status, { message, fields }) so the
// page shows the message and each field's explanation next to the field.
import { fail, type ActionFailure } from '@sveltejs/kit';
import { AppError } from '../errors';

export interface FormFailure {
  message: string;
  fields: Record<string, string>;
  values: Record<string, string>;
}

export function formFailure(err: unknown, values: Record<string, string> = {}): ActionFailure<FormFailure> {
  if (err instanceof AppError) return fail(err.status, { message: err.message, fields: err.fields ?? {}, values });
  throw err;
}

export function formValues(data: FormData, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, String(data.get(name) ?? '')]));
}
