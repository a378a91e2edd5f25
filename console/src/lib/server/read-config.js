// The console's configuration, read from the environment once. Plain
// JavaScript (typed by JSDoc) because two programs share it: the SvelteKit app
// ($lib/server/config.ts) and the production entry server.js, which Node runs
// without a build step.

/**
 * @typedef {object} ConsoleConfig
 * @property {string} apiUrl      the DevOps API, e.g. http://127.0.0.1:7300 (no trailing slash)
 * @property {string} host        where server.js listens
 * @property {number} port
 * @property {string | undefined} origin  the console's public origin (adapter-node's ORIGIN); undefined: taken from each request's Host
 * @property {boolean} secureCookies      true when the console is served over TLS
 * @property {number} apiTimeoutMs        deadline for one API call from a load or an action
 */

/**
 * @param {Record<string, string | undefined>} env
 * @returns {ConsoleConfig}
 */
export function loadConfig(env = process.env) {
  const apiUrl = (env.BERTH_API_URL ?? 'http://127.0.0.1:7300').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(apiUrl)) throw new Error(`BERTH_API_URL must be http(s)://host[:port], got "${apiUrl}"`);
  const port = Number(env.PORT ?? 7400);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be 1-65535, got "${env.PORT}"`);
  const origin = env.ORIGIN ? env.ORIGIN.replace(/\/+$/, '') : undefined;
  if (origin !== undefined && !/^https?:\/\/[^/]+$/.test(origin)) throw new Error(`ORIGIN must be http(s)://host[:port], got "${origin}"`);
  const apiTimeoutMs = Number(env.BERTH_API_TIMEOUT_MS ?? 15_000);
  if (!Number.isFinite(apiTimeoutMs) || apiTimeoutMs <= 0) throw new Error('BERTH_API_TIMEOUT_MS must be a positive number');
  return {
    apiUrl,
    host: env.HOST ?? '127.0.0.1',
    port,
    origin,
    secureCookies: origin?.startsWith('https:') ?? false,
    apiTimeoutMs
  };
}
