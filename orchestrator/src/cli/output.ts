// What the CLI prints: aligned tables for people, the API's JSON for
// machines, and lines on stderr for progress.
export type Cell = string | number | boolean | null | undefined;

/** An empty value shows as "-"; control characters never reach the terminal. */
export function cell(v: Cell | object): string {
  if (v === null || v === undefined || v === '') return '-';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/[\x00-\x1f\x7f]/g, ' ');
}

const width = (s: string) => [...s].length;

/** Rows → lines with every column padded to its widest cell, trailing spaces trimmed. */
export function table(rows: readonly (readonly (Cell | object)[])[]): string {
  const cells = rows.map((r) => r.map(cell));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? '')))) ?? [];
  return cells.map((r) => r.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join('  ').replace(/ +$/, '')).join('\n') + '\n';
}

export const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const err = (text: string): void => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
/** --json: the API's answer as it gave it, indented. */
export const json = (body: unknown): void => out(JSON.stringify(body, null, 2));

/** A value from the API shown inline in a sentence: one line, no control characters. */
export const inline = (v: unknown): string => (v === null || v === undefined ? '' : String(v).replace(/[\x00-\x1f\x7f]/g, ' '));
