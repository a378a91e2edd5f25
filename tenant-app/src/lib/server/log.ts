// JSON logs on stdout (pino): the container runtime collects them.
import pino from 'pino';
import { config } from './config';

let logger: pino.Logger | undefined;

/**
 * A request path as it may be logged: the token of a one-time link
 * (/welcome/<token>, the owner's setup link and invitations) is a password
 * until it is used, so it never reaches the log.
 */
export function loggablePath(path: string): string {
  return path.replace(/^\/welcome\/[^/]*/, '/welcome/[redacted]');
}

export function log(): pino.Logger {
  logger ??= pino({
    level: config().logLevel,
    base: { app: 'berth-tenant-app', version: config().version },
    // Never let a credential reach the log, whatever a caller passes.
    redact: ['password', '*.password', 'token', '*.token', 'cookie', '*.cookie', 'headers.cookie']
  });
  return logger;
}
