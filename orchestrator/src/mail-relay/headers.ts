// A team's message leaves as the platform's sender: its From and Sender
// headers are replaced (a team must not mail as anyone it likes through the
// platform's server and reputation) and X-Berth-Team names the team for abuse
// reports. Reply-To stays the team's. The body is not touched.
const DROPPED = new Set(['from', 'sender', 'x-berth-team']);

/** Header lines of the raw message, with continuation lines kept with their field. */
function fields(head: string): string[] {
  const out: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1] += `\r\n${line}`;
    else if (line !== '') out.push(line);
  }
  return out;
}

export function rewriteHeaders(raw: Buffer, from: string, team: string): Buffer {
  const text = raw.toString('latin1');
  const match = /\r?\n\r?\n/.exec(text);
  const head = match ? text.slice(0, match.index) : text;
  const body = match ? text.slice(match.index + match[0].length) : '';
  const name = (field: string) => field.slice(0, Math.max(0, field.indexOf(':'))).trim().toLowerCase();
  const kept = fields(head).filter((f) => !DROPPED.has(name(f)));
  const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');
  const headers = [`From: ${oneLine(from)}`, `X-Berth-Team: ${oneLine(team)}`, ...kept];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}
