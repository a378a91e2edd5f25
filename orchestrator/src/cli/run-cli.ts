// The shared ending of Berth's Node command-line tools: exit with main's code,
// or print one line naming the error and exit non-zero.
import { BerthError } from '../errors.js';

/** A mistake in the command line itself. */
export class UsageError extends Error {}

export function runCli(name: string, main: () => Promise<number>, usageExitCode: number): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const message =
        err instanceof UsageError ? `${err.message} (see --help)`
        : err instanceof BerthError ? `${err.code}: ${err.message}`
        : (err as Error).message ?? String(err);
      console.error(`${name}: ${message.split('\n')[0]}`);
      process.exit(err instanceof UsageError ? usageExitCode : 1);
    }
  );
}
