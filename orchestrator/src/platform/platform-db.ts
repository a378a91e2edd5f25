// The control plane's own database: a berth-platform-db container from the
// same DB image tenants use, its port published on 127.0.0.1 only, its data in
// a named volume. Ensured at start; BERTH_MONGO_URL skips all of this.
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import { runProbe } from '../health/probe.js';
import type { ContainerRuntime } from '../runtime/types.js';

// No berth.tenant label: the reconciler never takes it for a tenant's leftover.
const LABELS = { 'berth.managed': 'true', 'berth.role': 'platform-db' };
const PROBE = { exec: ['berth-probe', 'mongo', '127.0.0.1:27017'] };

export async function ensurePlatformDb(runtime: ContainerRuntime, config: PlatformConfig, timeoutMs = 60_000): Promise<string> {
  if (config.mongoUrl) return config.mongoUrl;
  const { container, port } = config.platformDb;
  const network = `${container}-net`;
  const volume = `${container}-data`;
  let info = await runtime.inspectContainer(container);
  if (!info) {
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
      capDrop: ['ALL'],
      capAdd: [],
      securityOpt: ['no-new-privileges:true']
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
export async function removePlatformDb(runtime: ContainerRuntime, container: string, deleteData: boolean): Promise<void> {
  await runtime.removeContainer(container);
  await runtime.removeNetwork(`${container}-net`);
  if (deleteData) await runtime.removeVolume(`${container}-data`);
}
