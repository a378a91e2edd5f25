// Test-side helpers: the real Docker driver and a unique tenant prefix per run,
// so a test only ever touches what it made.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/log.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';

export const config = loadConfig();
export const runtime = new DockerRuntime(silentLogger, config.dockerSocket);

/** A slug no other run uses: "t" + a tag + random hex. */
export function testSlug(tag: string): string {
  return `t${tag}-${randomBytes(4).toString('hex')}`;
}

const run = promisify(execFile);

/** The docker CLI with an argv array (no shell), for assertions only; killed after a minute, so a stuck engine fails the test. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 << 20, timeout: 60_000 });
  return stdout.trim();
}
