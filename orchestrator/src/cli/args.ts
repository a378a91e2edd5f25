// The CLI's argument rules, one parser for every command: flags before or
// after the argument, --flag=value, "--" ending the flags, -h/--help anywhere,
// at most one positional argument, and --wait/--timeout where a command waits.
import { CliExit, usageError } from './exit.js';

export interface Spec {
  /** The command as typed ("tenant create"), for messages that point at its --help. */
  cmd: string;
  help: string;
  /** Flags that take a value. */
  values?: readonly string[];
  /** Flags that take none. */
  switches?: readonly string[];
  /** The positional argument's name ("<slug>"); none allowed when absent. */
  positional?: string;
  /** The command takes --wait [--timeout S]. */
  wait?: boolean;
}

export interface Parsed {
  pos: string;
  opts: Map<string, string>;
  has(flag: string): boolean;
  get(flag: string): string | undefined;
  wait: boolean;
  /** --timeout in seconds (with --wait); default 600. */
  timeoutS: number;
}

export const DEFAULT_WAIT_S = 600;

/** --help: the command's usage on stdout, exit 0. */
export function showHelp(text: string): never {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  throw new CliExit(0);
}

export function parseArgs(spec: Spec, argv: readonly string[]): Parsed {
  const values = new Set(spec.values ?? []);
  const switches = new Set(spec.switches ?? []);
  if (spec.wait) values.add('--timeout'), switches.add('--wait');
  const args = splitEquals(argv);
  const opts = new Map<string, string>();
  let pos = '';
  const setPos = (a: string) => {
    if (!spec.positional || pos) usageError(`unexpected argument "${a}"`, spec.cmd);
    if (a === '') usageError(`${spec.positional} must not be empty`, spec.cmd);
    pos = a;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') showHelp(spec.help);
    if (a === '--') {
      const rest = args.slice(i + 1);
      if (rest.length > 1) usageError(`unexpected argument "${rest[1]}"`, spec.cmd);
      if (rest.length === 1) setPos(rest[0]!);
      break;
    }
    if (a.length > 1 && a.startsWith('-')) {
      if (switches.has(a)) opts.set(a, '1');
      else if (values.has(a)) {
        const v = args[i + 1];
        if (v === undefined || v === '' || v.startsWith('--')) usageError(`${a} needs a value`, spec.cmd);
        opts.set(a, v);
        i++;
      } else usageError(`unknown flag ${a}`, spec.cmd);
      continue;
    }
    setPos(a);
  }
  const timeout = opts.get('--timeout');
  if (timeout !== undefined) {
    wholeNumber('--timeout', timeout, spec.cmd);
    if (Number(timeout) < 1) usageError('--timeout must be at least 1 second', spec.cmd);
    if (!opts.has('--wait')) usageError('--timeout only makes sense with --wait', spec.cmd);
  }
  if (spec.positional && !pos) usageError(`missing ${spec.positional}`, spec.cmd);
  return {
    pos,
    opts,
    has: (f) => opts.has(f),
    get: (f) => opts.get(f),
    wait: opts.has('--wait'),
    timeoutS: timeout === undefined ? DEFAULT_WAIT_S : Number(timeout)
  };
}

/** A whole number of at most 9 digits (as the bash CLI took them). */
export function wholeNumber(flag: string, value: string, cmd: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) usageError(`${flag} must be a whole number, got "${value}"`, cmd);
  return Number(value);
}

/** Every --flag=value as --flag value, until "--". */
function splitEquals(argv: readonly string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of argv) {
    const eq = a.indexOf('=');
    if (!rest && a.startsWith('--') && eq > 2) out.push(a.slice(0, eq), a.slice(eq + 1));
    else {
      if (a === '--') rest = true;
      out.push(a);
    }
  }
  return out;
}
