// Runs scripts/berth as a child process (bash, an argv array, no shell), and
// what the CLI tests share.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { freePort } from './nginx.js';
import type { TestPlatform } from './platform.js';

export const script = fileURLToPath(new URL('../../../scripts/berth', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every stdout and stderr the CLI produced, to prove where tokens appear. */
export const outputs: string[] = [];

export function berth(args: string[], env: Record<string, string | undefined>, timeoutMs = 240_000): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env: childEnv, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      outputs.push(stdout, stderr);
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The error line: stderr must be exactly one line "berth: CODE: message". */
export function oneErrorLine(t: Test, run: Run, code: string): void {
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  t.match(lines[0], new RegExp(`^berth: ${code}: \\S`), `it names ${code}`);
}

/** A port nothing listens on: bind one, then let it go. */
export const closedPort = freePort;

export async function listen(tp: TestPlatform): Promise<string> {
  await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(tp.platform.app.server.address() as net.AddressInfo).port}`;
}

/** The command lines of every process mentioning `needle` (read from /proc). */
export async function commandLinesWith(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) found.push(cmdline.replace(/\0/g, ' '));
  }
  return found;
}
