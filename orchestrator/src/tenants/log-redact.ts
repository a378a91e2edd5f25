// What the API serves of a team's container logs never carries a credential:
// one-time links (/welcome/<token>: the owner's setup link and invitations),
// Berth's own tokens by their prefixes, and values of fields named like a
// credential. The app redacts its own log too; this is the second line, for
// any image and for lines written before it did. Every pattern here is linear
// in the line's length (no nested or adjacent unbounded repeats).
const RULES: readonly (readonly [RegExp, string])[] = [
  [/\/welcome\/[^\s/?#"'<>\\]+/g, '/welcome/[redacted]'],
  [/\b(berth_[0-9a-f]{12}_|bsess_|bsig_)[A-Za-z0-9_-]+/g, '$1[redacted]'],
  [/((?:token|password|passwd|secret|session|cookie|authorization)["']?[ \t]{0,8}[:=][ \t]{0,8}["']?)(?:Bearer )?[^\s"'&,;}]+/gi, '$1[redacted]']
];

export function redactLogLine(line: string): string {
  let out = line;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
