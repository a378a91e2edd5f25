// Form actions: an AppError becomes fail(status, { message, fields }) so the
// page shows the message and each field's explanation next to the field.
import { fail, type ActionFailure } from '@sveltejs/kit';
import { AppError } from '../errors';

export interface FormFailure {
  message: string;
  fields: Record<string, string>;
  values: Record<string, string>;
}

/** Typed values are shown again with the message, but never more than a field can hold. */
const ECHO_MAX = 300;

export function formFailure(err: unknown, values: Record<string, string> = {}): ActionFailure<FormFailure> {
  if (err instanceof AppError) {
    const echoed = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value.slice(0, ECHO_MAX)]));
    return fail(err.status, { message: err.message, fields: err.fields ?? {}, values: echoed });
  }
  throw err;
}

export function formValues(data: FormData, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, String(data.get(name) ?? '').slice(0, ECHO_MAX)]));
}
