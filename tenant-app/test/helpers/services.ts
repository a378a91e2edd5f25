// Real FerretDB and MinIO containers for a test file, on their own network,
// their ports published on 127.0.0.1 only; everything labelled for this test
// slug and removed by label in stop().
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../../orchestrator/src/config/config.js';
import { silentLogger } from '../../../orchestrator/src/log.js';
import { DockerRuntime } from '../../../orchestrator/src/runtime/docker-runtime.js';
import type { ContainerSpec } from '../../../orchestrator/src/runtime/types.js';
import { names } from '../../../orchestrator/src/names.js';
import { downStack } from '../../../orchestrator/src/stacks/stack-runner.js';

const platform = loadConfig();
export const runtime = new DockerRuntime(silentLogger, platform.dockerSocket);
/** The platform's own (BERTH_IMAGE_DB, BERTH_IMAGE_STORAGE): image names are configuration. */
export const IMAGES = { db: platform.images.db, storage: platform.images.storage };
/**
 * Not "default": an orchestrator running on this host for platform "default"
 * removes containers of tenants its registry does not know (its reconciler's
 * orphan sweep), which would pull these out from under a test.
 */
export const PLATFORM = 'tenant-app-test';

export interface Services {
  slug: string;
  /** A connection string for a database of its own. */
  mongoUrl(database: string): string;
  minio: { endpoint: string; accessKey: string; secretKey: string };
  /** The storage container's name, for tests that stop it. */
  names: { db: string; storage: string };
  stop(): Promise<void>;
}

/** One attempt, bounded by a ref'd timer: the driver's own timers are unref'd and would let the process exit mid-wait. */
function attempt(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    check().catch(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  ]).finally(() => clearTimeout(timer));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await attempt(check, 3000)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startServices(tag: string): Promise<Services> {
  const slug = `t${tag}-${randomBytes(4).toString('hex')}`;
  const labels = { 'berth.managed': 'true', 'berth.platform': PLATFORM, 'berth.tenant': slug };
  const network = names.internalNetwork(slug);
  const secretKey = randomBytes(18).toString('base64url');
  const base = (service: string): Omit<ContainerSpec, 'image' | 'env'> => ({
    name: names.container(slug, service),
    labels: { ...labels, 'berth.service': service },
    networks: [{ name: network, aliases: [service] }],
    mounts: [{ volume: names.volume(slug, `${service}-data`), target: '/data' }],
    limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 512 },
    tmpfs: [{ target: '/tmp', sizeBytes: 16 * 1024 * 1024 }]
  });
  const stop = () => downStack(runtime, slug, { deleteData: true, platform: PLATFORM });
  try {
    await runtime.ensureNetwork({ name: network, labels });
    for (const service of ['db', 'storage']) await runtime.ensureVolume({ name: names.volume(slug, `${service}-data`), labels });
    const db: ContainerSpec = { ...base('db'), image: IMAGES.db, env: {}, publish: { containerPort: 27017, hostPort: 0 } };
    const storage: ContainerSpec = {
      ...base('storage'), image: IMAGES.storage, cmd: ['server', '/data', '--address', ':9000'],
      env: { MINIO_ROOT_USER: slug, MINIO_ROOT_PASSWORD: secretKey }, publish: { containerPort: 9000, hostPort: 0 }
    };
    for (const spec of [db, storage]) {
      await runtime.createContainer(spec);
      await runtime.startContainer(spec.name);
    }
    const dbPort = (await runtime.inspectContainer(db.name))!.published[27017]!;
    const storagePort = (await runtime.inspectContainer(storage.name))!.published[9000]!;
    await until('FerretDB', async () => {
      const client = new MongoClient(`mongodb://127.0.0.1:${dbPort}/`, { serverSelectionTimeoutMS: 1000 });
      try {
        await client.db('admin').command({ ping: 1 });
        return true;
      } finally {
        void client.close();
      }
    });
    await until('MinIO', async () => (await fetch(`http://127.0.0.1:${storagePort}/minio/health/ready`)).ok);
    return {
      slug,
      mongoUrl: (database) => `mongodb://127.0.0.1:${dbPort}/${database}`,
      minio: { endpoint: `http://127.0.0.1:${storagePort}`, accessKey: slug, secretKey },
      names: { db: db.name, storage: storage.name },
      stop
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
