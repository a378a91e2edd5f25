// Brings a rendered stack up and takes it down. Up moves a team made under
// the old names to the new ones, creates the network, the volumes, then
// starts every service at once: a service waits only for the services it
// depends_on to pass their probes (the default template's app waits for its
// database and storage itself), and each is done when its own probe passes
// (never after a fixed sleep). A starting service may use more CPU than its
// plan (options.startCpus) and is held to the plan once healthy. Every step is
// idempotent: running it again after a crash finishes the job instead of
// failing, and puts back the plan's CPU limit a crash left raised.
import { BerthError } from '../errors.js';
import { runProbe, type ProbeResult } from '../runtime/probes.js';
import { assertSameOwner } from '../runtime/ownership.js';
import type { ContainerInfo, ContainerRuntime, Labels } from '../runtime/types.js';
import { migrateLegacy, type MigrationReport } from './legacy-migration.js';
import type { ServiceSpec, StackSpec } from './render.js';
import { LABEL } from '../runtime/labels.js';

export type StackStep =
  | { step: 'migrate'; status: 'done'; report: MigrationReport }
  | { step: 'network' | 'volumes'; status: 'done' }
  | { step: 'service'; service: string; status: 'starting' | 'healthy' };

export interface UpOptions {
  /** How long one service may take to pass its probe, from its start. */
  healthTimeoutMs?: number;
  /** Between two probes of a starting service. */
  probeIntervalMs?: number;
  /** CPUs a service may use until its probe passes; never less than its plan's. */
  startCpus?: number;
  onStep?: (step: StackStep) => void;
}

export interface StackStatus {
  services: Record<string, { state: string; healthy: boolean; detail: string }>;
  publishedPort?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Set when a sibling service failed: the others stop waiting. */
interface Abort {
  reason?: unknown;
}

export async function upStack(runtime: ContainerRuntime, spec: StackSpec, options: UpOptions = {}): Promise<{ publishedPort: number }> {
  const { onStep = () => {} } = options;
  // Reads first, at once (each engine call counts on a loaded host). Every
  // name is checked before anything is made: with services starting
  // together, one taken name found late would leave its siblings made.
  const [missing, found, objects] = await Promise.all([missingImages(runtime, spec), ownContainers(runtime, spec), ownNetworksAndVolumes(runtime, spec)]);
  for (const image of missing) {
    throw new BerthError('IMAGE_MISSING', `image ${image} is not on this host: build it with scripts/build-images`, { image });
  }
  // Moves only objects under the old names: what `found` says of the new ones stays true.
  const moved = await migrateLegacy(runtime, spec);
  if (moved.volumes.length + moved.containersRemoved.length + moved.networksRemoved.length + moved.networksKept.length > 0) {
    onStep({ step: 'migrate', status: 'done', report: moved });
  }
  // What the check read is handed on: no second inspect per object. A
  // migration may have made a volume of the new name meanwhile (its copy);
  // ensureVolume of one read as absent finds it and checks it.
  await Promise.all(spec.networks.map((network) => runtime.ensureNetwork(network, objects.get(`network:${network.name}`))));
  onStep({ step: 'network', status: 'done' });
  await Promise.all(spec.volumes.map((volume) => runtime.ensureVolume(volume, moved.volumes.some((v) => v.to === volume.name) ? undefined : objects.get(`volume:${volume.name}`))));
  onStep({ step: 'volumes', status: 'done' });

  const abort: Abort = {};
  const healthy = new Map<string, Promise<number | undefined>>();
  // spec.services lists each service after its dependencies (render.ts), so
  // every dependency's promise exists when a dependent asks for it.
  for (const service of spec.services) {
    const deps = service.dependsOn.map((d) => healthy.get(d)).filter((p): p is Promise<number | undefined> => p !== undefined);
    const run = (async () => {
      await Promise.all(deps);
      if (abort.reason) throw abort.reason;
      onStep({ step: 'service', service: service.name, status: 'starting' });
      const port = await startService(runtime, service, found.get(service.name) ?? null, options.startCpus);
      await waitHealthy(runtime, service, port, options, abort);
      onStep({ step: 'service', service: service.name, status: 'healthy' });
      return port;
    })();
    const named = run.catch((err: unknown) => {
      throw (abort.reason ??= atStep(err, service.name));
    });
    named.catch(() => {}); // settled below, with its siblings
    healthy.set(service.name, named);
  }
  // Settled, not just the first failure: nothing of this up may still be
  // creating or starting a container once it returns (a rollback follows).
  const results = await Promise.allSettled(healthy.values());
  if (abort.reason) throw abort.reason;
  const routed = [...healthy.keys()].indexOf(spec.route.service);
  const published = results[routed];
  return { publishedPort: published?.status === 'fulfilled' ? published.value ?? 0 : 0 };
}

/**
 * The step a service's failure happened at. Services start together, so the
 * operation's last reported step may be another service's: the error says
 * which one failed (its own step, unless it carries one, like an operation's
 * deadline).
 */
function atStep(err: unknown, service: string): unknown {
  if (!(err instanceof BerthError) || err.details?.step !== undefined) return err;
  return new BerthError(err.code, err.message, { ...err.details, service, step: `${service}:starting` }, { cause: err });
}

/** Each service's container as it is now (null: none), after checking every one is ours. */
async function ownContainers(runtime: ContainerRuntime, spec: StackSpec): Promise<Map<string, ContainerInfo | null>> {
  const found = await Promise.all(spec.services.map((s) => runtime.inspectContainer(s.container.name)));
  spec.services.forEach((service, i) => {
    const info = found[i];
    if (info) assertSameOwner('container', service.container.name, info.labels, service.container.labels);
  });
  return new Map(spec.services.map((s, i) => [s.name, found[i] ?? null]));
}

/** NAME_TAKEN when a network or volume of the stack's names belongs to another owner; else each one's labels by "kind:name" (null: none). */
async function ownNetworksAndVolumes(runtime: ContainerRuntime, spec: StackSpec): Promise<Map<string, Labels | null>> {
  const objects = [
    ...spec.networks.map((n) => ({ kind: 'network' as const, name: n.name, labels: n.labels })),
    ...spec.volumes.map((v) => ({ kind: 'volume' as const, name: v.name, labels: v.labels }))
  ];
  const found = await Promise.all(objects.map((o) => runtime.labelsOf(o.kind, o.name)));
  objects.forEach((o, i) => {
    const labels = found[i];
    if (labels) assertSameOwner(o.kind, o.name, labels, o.labels);
  });
  return new Map(objects.map((o, i) => [`${o.kind}:${o.name}`, found[i] ?? null]));
}

async function missingImages(runtime: ContainerRuntime, spec: StackSpec): Promise<string[]> {
  const images = [...new Set(spec.services.map((s) => s.container.image))];
  const present = await Promise.all(images.map((image) => runtime.imageExists(image)));
  return images.filter((_, i) => !present[i]);
}

/** The CPUs a starting service gets: the boost, unless its plan gives more. */
function startNanoCpus(service: ServiceSpec, startCpus: number | undefined): number {
  const plan = service.container.limits.nanoCpus;
  return startCpus ? Math.max(plan, Math.round(startCpus * 1e9)) : plan;
}

/** Starts the service's container (`info`: as upStack found it, checked ours), creating it first when it does not exist. */
async function startService(runtime: ContainerRuntime, service: ServiceSpec, found: ContainerInfo | null, startCpus: number | undefined): Promise<number | undefined> {
  const name = service.container.name;
  let info = found;
  const attached = (i: ContainerInfo) => service.container.networks.every((n) => i.networks.includes(n.name));
  if (info && (info.labels[LABEL.configHash] !== service.container.labels[LABEL.configHash] || !attached(info))) {
    // Ours, but made from another spec (image, settings, secrets) or half
    // made (a process killed between create and connecting its second
    // network, which also means no published port): replace it; the volumes
    // keep the data.
    await runtime.removeContainer(name);
    info = null;
  }
  const boost = startNanoCpus(service, startCpus);
  // The config hash names the plan's limits, not the boost: the container
  // stays "the same spec" whatever CPU it was started with.
  if (!info) await runtime.createContainer({ ...service.container, limits: { ...service.container.limits, nanoCpus: boost } });
  else if (!info.running && info.nanoCpus !== boost) await runtime.setCpus(name, boost);
  if (!info?.running) await runtime.startContainer(name);
  const port = service.container.publish?.containerPort;
  return port ? (await runtime.inspectContainer(name))?.published[port] : undefined;
}

async function waitHealthy(runtime: ContainerRuntime, service: ServiceSpec, port: number | undefined, options: UpOptions, abort: Abort): Promise<void> {
  const timeoutMs = options.healthTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const interval = options.probeIntervalMs ?? 250;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  for (;;) {
    if (abort.reason) throw abort.reason;
    const info = await runtime.inspectContainer(service.container.name);
    if (!info?.running) {
      const logs = info ? (await runtime.logs(service.container.name, 20)).trim() : '';
      throw new BerthError('HEALTH_TIMEOUT', `service ${service.name} stopped while starting (state ${info?.state ?? 'missing'}, exit ${info?.exitCode ?? '?'})${logs ? `; last log lines:\n${logs}` : ''}`, { service: service.name });
    }
    last = await runProbe(runtime, service.container.name, service.probe, port);
    if (last.ok) {
      // Held to its plan from now on (also a container a crash left boosted).
      if (info.nanoCpus !== service.container.limits.nanoCpus) await runtime.setCpus(service.container.name, service.container.limits.nanoCpus);
      return;
    }
    if (Date.now() >= deadline) break;
    await sleep(interval);
  }
  throw new BerthError('HEALTH_TIMEOUT', `service ${service.name} did not pass its probe within ${timeoutMs} ms; last answer: ${last.detail}`, { service: service.name });
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
