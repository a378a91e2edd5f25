// The control plane's own database: a berth-platform-db container from the
// same DB image tenants use, its port published on 127.0.0.1 only, its data in
// a named volume. Ensured at start; BERTH_MONGO_URL skips all of this.
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import { runProbe } from '../health/probe.js';
import { assertSameOwner, OWNER_LABELS } from '../runtime/ownership.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { names } from '../stacks/names.js';

// No berth.tenant label: the reconciler never takes it for a tenant's leftover.
const LABELS = { 'berth.managed': 'true', [OWNER_LABELS.role]: 'platform-db' };
const PROBE = { exec: ['berth-probe', 'mongo', '127.0.0.1:27017'] };

export async function ensurePlatformDb(runtime: ContainerRuntime, config: PlatformConfig, timeoutMs = 60_000): Promise<string> {
  if (config.mongoUrl) return config.mongoUrl;
  const { port } = config.platformDb;
  const { container, network, volume } = names.platformDb(config.platformDb.container);
  let info = await runtime.inspectContainer(container);
  if (info) assertSameOwner('container', container, info.labels, LABELS);
  else {
    await runtime.ensureNetwork({ name: network, labels: LABELS });
    await runtime.ensureVolume({ name: volume, labels: LABELS });
    await runtime.createContainer({
      name: container,
      image: config.images.db,
      env: {},
      labels: LABELS,
      networks: [{ name: network, aliases: ['db'] }],
      mounts: [{ volume, target: '/data' }],
      publish: { containerPort: 27017, hostPort: port },
      limits: { memoryBytes: 1024 ** 3, nanoCpus: 1e9, pids: 1024 },
      tmpfs: [{ target: '/tmp', sizeBytes: 64 * 1024 ** 2 }]
    });
  }
  if (!info?.running) await runtime.startContainer(container);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await runProbe(runtime, container, PROBE);
    if (probe.ok) break;
    if (Date.now() > deadline) throw new BerthError('DB_UNAVAILABLE', `platform database ${container} did not answer within ${timeoutMs} ms: ${probe.detail}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  info = await runtime.inspectContainer(container);
  const published = info?.published[27017];
  if (!published) throw new BerthError('DB_UNAVAILABLE', `platform database ${container} has no port published on 127.0.0.1`);
  return `mongodb://127.0.0.1:${published}/`;
}

/** Removes the platform database container (and, if asked, its data). For tests and teardown. */
export async function removePlatformDb(runtime: ContainerRuntime, name: string, deleteData: boolean): Promise<void> {
  const { container, network, volume } = names.platformDb(name);
  await runtime.removeContainer(container);
  await runtime.removeNetwork(network);
  if (deleteData) await runtime.removeVolume(volume);
}
