import type { PlatformConfig } from '../config/config.js';

/** The images a stack runs, from configuration; the app's tag is its version. */
export function stackImages(config: PlatformConfig, appVersion: string) {
  return { app: `${config.images.appRepo}:${appVersion}`, db: config.images.db, storage: config.images.storage };
}
