// Boots the orchestrator: configuration, the platform, the API on
// BERTH_API_HOST:BERTH_API_PORT, then the reconcile and health loops. On
// SIGTERM it stops taking requests and lets running operations finish.
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { authLogSerializers } from './auth/auth.plugin.js';
import { loadConfig } from './config/config.js';
import { BerthError } from './errors.js';
import { createPlatform } from './platform/platform.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // One pino logger for the engine and fastify; tokens never reach the log.
  const log = pino({ level: config.logLevel, serializers: authLogSerializers });
  const platform = await createPlatform(config, log, { fastify: { loggerInstance: log } }).catch((err: unknown) => {
    const message = err instanceof BerthError ? `${err.code}: ${err.message}` : String((err as Error).stack ?? err);
    process.stderr.write(`berth orchestrator cannot start: ${message}\n`);
    process.exit(1);
  });
  const { app } = platform;
  await app.listen({ host: config.api.host, port: config.api.port });
  // The process itself says where it is: scripts/platform-up stops it by this pid.
  const pidFile = path.join(config.home, 'orchestrator.pid');
  await writeFile(pidFile, `${process.pid}\n`);
  process.on('exit', () => rmSync(pidFile, { force: true }));
  await platform.startLoops();
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    platform.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
