// The console as production runs it: built with vite, started as
// `node console/server.js` (adapter-node handler + WebSocket proxy).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { appendFileSync } from 'node:fs';
import { requireBuild } from '../../../orchestrator/test/helpers/built.js';
import { testLogFile } from '../../../orchestrator/test/helpers/test-log.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** Builds the console (benches only: tests use the build scripts/test made, see requireConsoleBuild). */
export async function buildConsole(): Promise<void> {
  await run('npm', ['run', 'build', '-w', 'console'], { cwd: ROOT, maxBuffer: 32 << 20 });
}

/** Fails with what to run when console/build is missing or older than the console's sources. */
export function requireConsoleBuild(): Promise<void> {
  return requireBuild(path.join(ROOT, 'console'), 'build/handler.js', ['src', 'package.json', 'svelte.config.js', 'vite.config.ts']);
}

export interface RunningConsole {
  url: string;
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

export async function startConsole(env: { BERTH_API_URL: string; PORT: number; ORIGIN?: string }, timeoutMs = 20_000): Promise<RunningConsole> {
  const url = env.ORIGIN ?? `http://127.0.0.1:${env.PORT}`;
  const child = spawn(process.execPath, [path.join(ROOT, 'console/server.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', BERTH_API_URL: env.BERTH_API_URL, PORT: String(env.PORT), ORIGIN: url },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const output: string[] = [];
  // Its log goes to the test's log folder too, printed when the test fails:
  // a page that never showed its next step is explained by what the server said.
  const log = testLogFile(`console-${env.PORT}`);
  const keep = (d: Buffer) => {
    output.push(d.toString());
    appendFileSync(log, d);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`console exited with ${child.exitCode}:\n${output.join('')}`);
    // Where it listens: its origin may be an https name only nginx serves.
    const res = await fetch(`http://127.0.0.1:${env.PORT}/login`).catch(() => null);
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`console did not answer within ${timeoutMs} ms:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
}
