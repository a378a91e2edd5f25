// Platform configuration, read and validated once: scripts/defaults.env gives
// the defaults (shared with the bash scripts), the environment overrides them.
// Nothing else in the orchestrator reads process.env.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { BerthError } from '../errors.js';

export interface PlatformConfig {
  rootDir: string;
  home: string;
  baseDomain: string;
  templatesDir: string;
  images: { db: string; storage: string; nodeBase: string; appRepo: string };
  /** The tenant-app version new stacks run unless told otherwise. */
  defaultAppVersion: string;
  dockerSocket: string;
}

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, rootDir = ROOT_DIR): PlatformConfig {
  const defaults = parseEnvFile(readFileSync(path.join(rootDir, 'scripts/defaults.env'), 'utf8'));
  const get = (name: string): string => {
    const value = env[name] ?? defaults[name];
    if (value === undefined || value === '') {
      throw new BerthError('CONFIG_INVALID', `${name} is not set (scripts/defaults.env or the environment)`);
    }
    return value;
  };
  const appPackage = JSON.parse(readFileSync(path.join(rootDir, 'tenant-app/package.json'), 'utf8')) as { version: string };
  return {
    rootDir,
    home: get('BERTH_HOME'),
    baseDomain: get('BERTH_BASE_DOMAIN'),
    templatesDir: path.resolve(rootDir, get('BERTH_TEMPLATES_DIR')),
    images: {
      db: get('BERTH_IMAGE_DB'),
      storage: get('BERTH_IMAGE_STORAGE'),
      nodeBase: get('BERTH_IMAGE_NODE_BASE'),
      appRepo: get('BERTH_IMAGE_APP_REPO')
    },
    defaultAppVersion: env.BERTH_APP_VERSION ?? appPackage.version,
    dockerSocket: env.DOCKER_SOCKET ?? '/var/run/docker.sock'
  };
}
