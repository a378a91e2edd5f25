// The built app run as a plain Node process (not in a container), so a test
// can read its RSS from /proc, restart it, and send it SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { BUILD_ENTRY, ensureBuilt } from './build.js';
import type { Services } from './services.js';

import { freePort } from '../../../orchestrator/test/helpers/nginx.js';

export { freePort };

export interface RunningApp {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** Resident set size now, and its peak so far (VmRSS, VmHWM), in bytes. */
  memory(): { rss: number; peak: number };
  /** Resets the peak (VmHWM) to the current RSS, so a later peak measures only what came after. */
  resetPeak(): void;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** The environment the stack template gives the app, pointed at these services. */
export function stackEnv(services: Services, database: string, bucket = database): Record<string, string> {
  return {
    MONGO_URL: services.mongoUrl(database),
    MINIO_ENDPOINT: services.minio.endpoint,
    MINIO_ACCESS_KEY: services.minio.accessKey,
    MINIO_SECRET_KEY: services.minio.secretKey,
    MINIO_BUCKET: bucket,
    APP_VERSION: '9.9.9-test'
  };
}

function procStatus(pid: number, field: string): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : 0;
}

export async function startApp(env: Record<string, string>, options: { port?: number; timeoutMs?: number } = {}): Promise<RunningApp> {
  await ensureBuilt();
  const port = options.port ?? (await freePort());
  // The same settings as the image (tenant-app/Dockerfile); ORIGIN as the
  // stack gives it, here the address the test talks to.
  const child = spawn(process.execPath, [BUILD_ENTRY], {
    env: {
      PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), BODY_SIZE_LIMIT: 'Infinity', SHUTDOWN_TIMEOUT: '20',
      PROTOCOL_HEADER: 'x-forwarded-proto', ADDRESS_HEADER: 'x-forwarded-for', XFF_DEPTH: '1', MALLOC_ARENA_MAX: '2', ORIGIN: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      raw.push(line);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not JSON (a crash trace): kept in raw for the error message
      }
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}:\n${raw.join('\n')}`);
    const res = await fetch(`${url}/healthz`).catch(() => null);
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`app not healthy in time (last ${res?.status}):\n${raw.slice(-20).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url, port, child, logs,
    memory: () => ({ rss: procStatus(child.pid!, 'VmRSS'), peak: procStatus(child.pid!, 'VmHWM') }),
    resetPeak: () => writeFileSync(`/proc/${child.pid}/clear_refs`, '5'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    }
  };
}
