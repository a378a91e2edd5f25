// Teams registered asleep for a bench: each gets exactly what a team stopped
// for sleep holds (tenants/sleep-steps.ts): its registry entry (phase
// sleeping, the model team's plan, template and version, its secrets sealed
// to its own slug), its volumes (made by the platform's own renderer) and its
// route to the wake listener. They never ran, so a bench does not wake them.
import { loadPlatformKey, SecretBox } from '../orchestrator/src/crypto/secret-box.js';
import type { Platform } from '../orchestrator/src/platform/platform.js';
import type { PlatformConfig } from '../orchestrator/src/config/config.js';
import type { TenantDoc } from '../orchestrator/src/tenants/tenant.types.js';

export interface SleepersOptions {
  /** A real team whose plan, template, version and secrets the sleepers copy. */
  model: TenantDoc;
  /** The i-th sleeper's registry port: `portTop - i` (the top of the port range; never bound here). */
  portTop: number;
  concurrency: number;
  /** Called with each slug before anything is made for it (for the bench's clean-up). */
  onMade: (slug: string) => void;
  /** Called after every `every` sleepers. */
  progress?: { every: number; report: (done: number) => void };
}

/** Registers `slugs` asleep; returns how many volume creations were retried (at most 2 per volume). */
export async function registerSleepers(platform: Platform, config: PlatformConfig, slugs: string[], o: SleepersOptions): Promise<number> {
  const box = new SecretBox(await loadPlatformKey(config.home, config.platformKey));
  const secrets = box.open<Record<string, string>>(o.model.secrets, o.model._id);
  let retries = 0;
  let done = 0;
  let next = 0;
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < slugs.length) {
      const i = next++;
      const slug = slugs[i]!;
      const now = new Date();
      const { model } = o;
      const doc: TenantDoc = {
        _id: slug, displayName: slug, plan: model.plan, template: model.template, templateVersion: model.templateVersion,
        appVersion: model.appVersion, phase: 'sleeping', desired: 'running', port: o.portTop - i, secrets: box.seal(secrets, slug), createdAt: now, updatedAt: now
      };
      o.onMade(slug);
      await platform.repo.insert(doc);
      for (const volume of platform.stacks.specFor(doc).volumes) {
        for (let attempt = 0; ; attempt++) {
          try {
            await platform.runtime.ensureVolume(volume);
            break;
          } catch (err) {
            if (attempt >= 2) throw err;
            retries++;
          }
        }
      }
      await platform.routes.setRoute(slug, platform.stacks.sleepRoute());
      if (o.progress && ++done % o.progress.every === 0) o.progress.report(done);
    }
  }));
  return retries;
}
