// The terminal WebSocket's messages. Server → client: binary frames are
// terminal output; a text frame is a closing notice (human-readable, so a
// terminal can print it as is). Client → server: JSON text frames
// {"type":"input","data":"..."} and {"type":"resize","cols":N,"rows":M}.
// Close codes: 1000 shell exited, 4000 + an HTTP-like status for the rest
// (4408 idle, 4409 SERVICE_HAS_NO_SHELL / SERVICE_NOT_RUNNING, 4500 runtime
// error), the reason being the error code.

export const COLS = { min: 1, max: 500 };
export const ROWS = { min: 1, max: 200 };
export const MAX_INPUT = 64 * 1024;

export type ClientMessage = { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number };

const inRange = (n: unknown, r: { min: number; max: number }): n is number => Number.isInteger(n) && (n as number) >= r.min && (n as number) <= r.max;

/** The message, or a reason it is refused. */
export function parseClientMessage(raw: string): ClientMessage | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { invalid: 'not JSON' };
  }
  const m = value as Record<string, unknown> | null;
  if (m?.type === 'input') {
    if (typeof m.data !== 'string' || m.data.length > MAX_INPUT) return { invalid: `input.data must be a string of at most ${MAX_INPUT} characters` };
    return { type: 'input', data: m.data };
  }
  if (m?.type === 'resize') {
    if (!inRange(m.cols, COLS) || !inRange(m.rows, ROWS)) return { invalid: `resize needs integer cols ${COLS.min}-${COLS.max} and rows ${ROWS.min}-${ROWS.max}` };
    return { type: 'resize', cols: m.cols, rows: m.rows };
  }
  return { invalid: 'type must be "input" or "resize"' };
}

export const notice = (text: string): string => `\r\n[berth] ${text}\r\n`;
