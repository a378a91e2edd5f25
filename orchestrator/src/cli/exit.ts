// The CLI's exit codes and its one kind of error: a status to exit with and
// one line, "berth: CODE: message", on stderr. The meanings are the ones CI
// scripts rely on (berth --help lists them).
export const EXIT = { ok: 0, api: 1, usage: 2, unreachable: 3, opFailed: 4, timeout: 5 } as const;

/** Ends the CLI with `status`; `code` and `message` make its one stderr line (none for status 0). */
export class CliExit extends Error {
  constructor(readonly status: number, readonly code = '', message = '') {
    super(message);
  }
}

export function fail(status: number, code: string, message: string): never {
  throw new CliExit(status, code, message);
}

/** A mistake in the command line: exit 2, pointing at the command's --help. */
export function usageError(message: string, cmd?: string): never {
  fail(EXIT.usage, 'USAGE', `${message}${cmd ? ` (see: berth ${cmd} --help)` : ''}`);
}

/** The one error line: control characters would split it or smuggle terminal escapes. */
export function errorLine(e: CliExit): string {
  return `berth: ${e.code}: ${e.message.replace(/[\r\n]+/g, ' ')}\n`;
}
