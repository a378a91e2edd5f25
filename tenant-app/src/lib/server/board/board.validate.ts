// Input checks for items, each failure explained next to its field.
import { AppError } from '../errors';
import { STATUSES, type ItemFilter, type ItemInput, type Status } from './board.types';

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

type Raw = Record<string, unknown>;

/** Checks the fields present in raw; `partial` allows any of them to be absent (edits). */
export function cleanItemInput(raw: Raw, partial: boolean): Partial<ItemInput> {
  const out: Partial<ItemInput> = {};
  const fields: Record<string, string> = {};
  if (raw.title !== undefined || !partial) {
    const title = typeof raw.title === 'string' ? raw.title.trim() : '';
    if (title.length < 1 || title.length > 200) fields.title = 'give the item a title of 1 to 200 characters';
    else out.title = title;
  }
  if (raw.description !== undefined) {
    const description = typeof raw.description === 'string' ? raw.description.trim() : null;
    if (description === null || description.length > 10_000) fields.description = 'keep the description under 10,000 characters';
    else out.description = description;
  } else if (!partial) out.description = '';
  if (raw.status !== undefined || !partial) {
    const status = raw.status ?? 'todo';
    if (!isStatus(status)) fields.status = `choose one of ${STATUSES.join(', ')}`;
    else out.status = status;
  }
  if (raw.assigneeId !== undefined) {
    const assignee = raw.assigneeId === '' || raw.assigneeId === null ? null : raw.assigneeId;
    if (assignee !== null && (typeof assignee !== 'string' || !/^[a-f0-9]{32}$/.test(assignee))) fields.assigneeId = 'choose a member of the team';
    else out.assigneeId = assignee;
  } else if (!partial) out.assigneeId = null;
  if (Object.keys(fields).length > 0) throw new AppError('VALIDATION', 'check the fields below', fields);
  return out;
}

export function cleanFilter(params: URLSearchParams): ItemFilter {
  const filter: ItemFilter = {};
  const status = params.get('status');
  if (status) {
    if (!isStatus(status)) throw new AppError('VALIDATION', `status must be one of ${STATUSES.join(', ')}`, { status: 'unknown column' });
    filter.status = status;
  }
  const assignee = params.get('assignee');
  if (assignee) {
    if (assignee !== 'none' && !/^[a-f0-9]{32}$/.test(assignee)) throw new AppError('VALIDATION', 'assignee must be a member id or "none"');
    filter.assignee = assignee;
  }
  const q = params.get('q')?.trim();
  if (q) filter.q = q.slice(0, 100);
  return filter;
}

export function cleanMove(raw: Raw): { status: Status; index: number } {
  if (!isStatus(raw.status)) throw new AppError('VALIDATION', `status must be one of ${STATUSES.join(', ')}`, { status: 'unknown column' });
  const index = raw.index ?? Number.MAX_SAFE_INTEGER;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new AppError('VALIDATION', 'index must be a whole number ≥ 0', { index: 'not a position' });
  return { status: raw.status, index };
}
