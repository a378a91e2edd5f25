// Brings a rendered stack up and takes it down. Up moves a team made under
// the old names to the new ones, creates the network, the volumes, then each
// service in dependency order, and moves on only when that service's probe
// passes (never after a fixed sleep). Every step is idempotent: running it
// again after a crash finishes the job instead of failing.
import { BerthError } from '../errors.js';
import { runProbe, type ProbeResult } from '../runtime/probes.js';
import { assertSameOwner } from '../runtime/ownership.js';
import type { ContainerInfo, ContainerRuntime } from '../runtime/types.js';
import { migrateLegacy, type MigrationReport } from './legacy-migration.js';
import type { ServiceSpec, StackSpec } from './render.js';
import { LABEL } from '../runtime/labels.js';

export type StackStep =
  | { step: 'migrate'; status: 'done'; report: MigrationReport }
  | { step: 'network' | 'volumes'; status: 'done' }
  | { step: 'service'; service: string; status: 'starting' | 'healthy' };

export interface UpOptions {
  /** How long one service may take to pass its probe. */
  healthTimeoutMs?: number;
  probeIntervalMs?: number;
  onStep?: (step: StackStep) => void;
}

export interface StackStatus {
  services: Record<string, { state: string; healthy: boolean; detail: string }>;
  publishedPort?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function upStack(runtime: ContainerRuntime, spec: StackSpec, options: UpOptions = {}): Promise<{ publishedPort: number }> {
  const { onStep = () => {} } = options;
  for (const missing of await missingImages(runtime, spec)) {
    throw new BerthError('IMAGE_MISSING', `image ${missing} is not on this host: build it with scripts/build-images`, { image: missing });
  }
  const moved = await migrateLegacy(runtime, spec);
  if (moved.volumes.length + moved.containersRemoved.length + moved.networksRemoved.length + moved.networksKept.length > 0) {
    onStep({ step: 'migrate', status: 'done', report: moved });
  }
  for (const network of spec.networks) await runtime.ensureNetwork(network);
  onStep({ step: 'network', status: 'done' });
  for (const volume of spec.volumes) await runtime.ensureVolume(volume);
  onStep({ step: 'volumes', status: 'done' });
  let publishedPort = 0;
  for (const service of spec.services) {
    onStep({ step: 'service', service: service.name, status: 'starting' });
    const port = await startService(runtime, service);
    await waitHealthy(runtime, service, port, options);
    if (service.name === spec.route.service) publishedPort = port ?? 0;
    onStep({ step: 'service', service: service.name, status: 'healthy' });
  }
  return { publishedPort };
}

async function missingImages(runtime: ContainerRuntime, spec: StackSpec): Promise<string[]> {
  const images = [...new Set(spec.services.map((s) => s.container.image))];
  const present = await Promise.all(images.map((image) => runtime.imageExists(image)));
  return images.filter((_, i) => !present[i]);
}

/** Starts the service's container, creating it first when it does not exist. */
async function startService(runtime: ContainerRuntime, service: ServiceSpec): Promise<number | undefined> {
  const name = service.container.name;
  let info = await runtime.inspectContainer(name);
  // Someone else's container under this name is neither started nor replaced.
  if (info) assertSameOwner('container', name, info.labels, service.container.labels);
  const attached = (i: ContainerInfo) => service.container.networks.every((n) => i.networks.includes(n.name));
  if (info && (info.labels[LABEL.configHash] !== service.container.labels[LABEL.configHash] || !attached(info))) {
    // Ours, but made from another spec (image, settings, secrets) or half
    // made (a process killed between create and connecting its second
    // network, which also means no published port): replace it; the volumes
    // keep the data.
    await runtime.removeContainer(name);
    info = null;
  }
  if (!info) await runtime.createContainer(service.container);
  if (!info?.running) await runtime.startContainer(name);
  const port = service.container.publish?.containerPort;
  return port ? (await runtime.inspectContainer(name))?.published[port] : undefined;
}

async function waitHealthy(runtime: ContainerRuntime, service: ServiceSpec, port: number | undefined, options: UpOptions): Promise<void> {
  const deadline = Date.now() + (options.healthTimeoutMs ?? 90_000);
  const interval = options.probeIntervalMs ?? 250;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  for (;;) {
    const info = await runtime.inspectContainer(service.container.name);
    if (!info?.running) {
      const logs = info ? (await runtime.logs(service.container.name, 20)).trim() : '';
      throw new BerthError('HEALTH_TIMEOUT', `service ${service.name} stopped while starting (state ${info?.state ?? 'missing'}, exit ${info?.exitCode ?? '?'})${logs ? `; last log lines:\n${logs}` : ''}`, { service: service.name });
    }
    last = await runProbe(runtime, service.container.name, service.probe, port);
    if (last.ok) return;
    if (Date.now() >= deadline) break;
    await sleep(interval);
  }
  throw new BerthError('HEALTH_TIMEOUT', `service ${service.name} did not pass its probe within ${options.healthTimeoutMs ?? 90_000} ms; last answer: ${last.detail}`, { service: service.name });
}

/** Live state of every service of a stack, probed now. */
export async function stackStatus(runtime: ContainerRuntime, spec: StackSpec): Promise<StackStatus> {
  const status: StackStatus = { services: {} };
  for (const service of spec.services) {
    const info = await runtime.inspectContainer(service.container.name);
    const port = service.container.publish ? info?.published[service.container.publish.containerPort] : undefined;
    if (service.name === spec.route.service) status.publishedPort = port;
    const probe = info?.running ? await runProbe(runtime, service.container.name, service.probe, port) : { ok: false, detail: info ? info.state : 'missing' };
    status.services[service.name] = { state: info?.state ?? 'missing', healthy: probe.ok, detail: probe.detail };
  }
  return status;
}

/**
 * Removes everything Berth labelled for this tenant: containers, then the
 * network; volumes (the team's data) only when deleteData is true. Found by
 * label, never by parsing names.
 */
export async function downStack(runtime: ContainerRuntime, slug: string, options: { deleteData: boolean; platform?: string }): Promise<void> {
  const selector = { [LABEL.managed]: 'true', [LABEL.platform]: options.platform ?? 'default', [LABEL.tenant]: slug };
  for (const container of await runtime.listContainers(selector)) await runtime.removeContainer(container.name);
  for (const network of await runtime.listNetworks(selector)) await runtime.removeNetwork(network.name);
  if (options.deleteData) {
    for (const volume of await runtime.listVolumes(selector)) await runtime.removeVolume(volume.name);
  }
}
