// What the console's templates page shows of a loaded template: its plans
// (what each gives every service) and its services with the images they run
// here (image names are configuration, so they are filled in, not guessed).
import { parseMemory, storageQuotaBytes } from '../stacks/render.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { planEdge } from '../stacks/plan-edge.js';
import { sleepTimes } from '../stacks/plan-sleep.js';
import { bodySizeBytes } from '../proxy/route-entry.js';
import type { TemplateView } from './templates.schema.js';

/** `images` fills ${IMAGE_APP}, ${IMAGE_DB}, ${IMAGE_STORAGE} and ${APP_VERSION}; other variables stay as written. */
export function templateView(loaded: LoadedTemplate, images: Record<string, string>): TemplateView {
  const x = loaded.template['x-berth'];
  const plans: TemplateView['plans'] = {};
  for (const [plan, spec] of Object.entries(x.plans)) {
    const services: TemplateView['plans'][string]['services'] = {};
    for (const [service, limits] of Object.entries(spec.limits)) {
      services[service] = { memory: limits.memory, memoryBytes: parseMemory(limits.memory), cpus: limits.cpus, pids: limits.pids };
    }
    const quota = storageQuotaBytes(loaded, plan);
    const edge = planEdge(loaded, plan);
    const sleep = sleepTimes(loaded, plan);
    plans[plan] = {
      description: spec.description ?? '',
      ...(quota === undefined ? {} : { storageQuotaBytes: quota }),
      edge: { ...edge.limits, maxBodyBytes: bodySizeBytes(plan, edge.maxBodySize) },
      sleep: { pause: sleep.pause, stop: sleep.stop },
      services
    };
  }
  return {
    name: loaded.name,
    description: x.description ?? '',
    version: x.version,
    route: { ...x.route },
    defaultPlan: x.default_plan,
    plans,
    services: Object.entries(loaded.template.services).map(([name, svc]) => ({
      name,
      image: svc.image.replace(/\$\{([A-Z_]+)\}/g, (whole, v: string) => images[v] ?? whole)
    }))
  };
}
