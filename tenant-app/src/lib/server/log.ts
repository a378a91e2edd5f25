// JSON logs on stdout (pino): the container runtime collects them.
import pino from 'pino';
import { config } from './config';

let logger: pino.Logger | undefined;

export function log(): pino.Logger {
  logger ??= pino({
    level: config().logLevel,
    base: { app: 'berth-tenant-app', version: config().version },
    // Never let a credential reach the log, whatever a caller passes.
    redact: ['password', '*.password', 'token', '*.token', 'cookie', '*.cookie', 'headers.cookie']
  });
  return logger;
}
