// The orchestrator as a real process (node --import tsx src/server.ts), for
// tests that SIGKILL it: started with an environment from platformEnv, ready
// once its /healthz answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { testLogFile } from './test-log.js';
import { until } from './wait.js';

export async function startOrchestrator(env: NodeJS.ProcessEnv, apiPort: number, children: ChildProcess[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'orchestrator/src/server.ts')], {
    env: { ...env, BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  // Its log (stdout) and any crash (stderr) are kept, and printed if the test fails.
  const file = createWriteStream(testLogFile(`orchestrator-${env.BERTH_PLATFORM_ID ?? 'default'}-${child.pid}`), { flags: 'a' });
  child.stdout!.pipe(file, { end: false });
  child.stderr!.pipe(file, { end: false });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  children.push(child);
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`orchestrator exited: ${stderr}`);
    return (await httpGet(`http://127.0.0.1:${apiPort}/healthz`, 2000).catch(() => ({ status: 0 }))).status === 200;
  }, 60_000, 'the orchestrator to answer');
  return child;
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
