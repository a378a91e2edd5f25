// The logging seam: pino-compatible, so fastify's logger can be passed in.
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** JSON lines on stderr, for command-line tools that run without fastify. */
export function jsonLogger(level: keyof typeof LEVELS = 'info'): Logger {
  const at = (name: keyof typeof LEVELS) => (obj: object, msg?: string) => {
    if (LEVELS[name] < LEVELS[level]) return;
    process.stderr.write(`${JSON.stringify({ level: name, time: new Date().toISOString(), ...obj, msg })}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
