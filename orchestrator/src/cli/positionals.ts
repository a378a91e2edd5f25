// Commands that name two things ("berth backup show <slug> <id>"). args.ts
// takes at most one positional argument; this takes the arguments out in
// order and leaves the flags to it, so every flag rule (--flag=value, -h/--help
// anywhere, unknown flags, --wait/--timeout) stays the one parser's.
import { parseArgs, type Parsed, type Spec } from './args.js';
import { usageError } from './exit.js';

export interface ParsedMany extends Parsed {
  /** The positional arguments, in order; as many as `names`, fewer when the last ones are optional. */
  args: string[];
}

/**
 * `names` are the arguments in order ("<slug>", "<id>"); the first `required`
 * of them must be given. A flag that takes a value takes the word after it
 * (as args.ts does), and everything after "--" is an argument.
 */
export function parseMany(spec: Omit<Spec, 'positional'>, names: readonly string[], required: number, argv: readonly string[]): ParsedMany {
  const values = new Set([...(spec.values ?? []), ...(spec.wait ? ['--timeout'] : [])]);
  const flags: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.length > 1 && a.startsWith('-')) {
      flags.push(a);
      if (values.has(a) && i + 1 < argv.length) flags.push(argv[++i]!);
    } else args.push(a);
  }
  // The flags first: --help and a bad flag answer before a missing argument does.
  const parsed = parseArgs(spec, flags);
  if (args.length > names.length) usageError(`unexpected argument ${shown(args[names.length]!)}`, spec.cmd);
  args.forEach((a, i) => a === '' && usageError(`${names[i]} must not be empty`, spec.cmd));
  if (args.length < required) usageError(`missing ${names[args.length]}`, spec.cmd);
  return { ...parsed, pos: args[0] ?? '', args };
}

/** An argument in a message: cut short and on one line, so even a 1 MB argument makes a one-line error. */
export function shown(v: string): string {
  const flat = v.replace(/[\x00-\x1f\x7f]/g, '?');
  return flat.length <= 40 ? `"${flat}"` : `"${flat.slice(0, 40)}…" (${v.length} characters)`;
}
