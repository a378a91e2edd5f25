// The control plane's own database: a berth-platform-db container from the
// same DB image tenants use, its data in a named volume. It has no network at
// all (loopback only) and publishes no port: the orchestrator reaches it
// through a Unix socket under BERTH_HOME that only root can open, because
// FerretDB on SQLite has no authentication a registry could rely on (only an
// experimental flag; see README "Platform database"). Any local user could
// otherwise write an admin token into it. BERTH_MONGO_URL skips all of this.
import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PlatformConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import { runProbe } from '../runtime/probes.js';
import { assertSameOwner, OWNER_LABELS } from '../runtime/ownership.js';
import type { ContainerRuntime, ContainerSpec } from '../runtime/types.js';
import { names } from '../names.js';
import { configHash } from '../stacks/render.js';
import { LABEL } from '../runtime/labels.js';

// No berth.tenant label: the reconciler never takes it for a tenant's leftover.
const LABELS = { [LABEL.managed]: 'true', [OWNER_LABELS.role]: 'platform-db' };
const PROBE = { exec: ['berth-probe', 'mongo', '127.0.0.1:27017'] };
/** The user the database runs as (berth/ferretdb's own USER); it must create the socket. */
const DB_UID = 65534;
const SOCKET_DIR_IN_CONTAINER = '/run/berth-db';
const SOCKET_NAME = 'platform.sock';

/** Where the socket lives on the host: <home>/platform-db (root, 0700) / run (the database's user, 0700) / platform.sock. */
export function platformDbPaths(home: string): { dir: string; runDir: string; socket: string; url: string } {
  const dir = path.join(home, 'platform-db');
  const runDir = path.join(dir, 'run');
  const socket = path.join(runDir, SOCKET_NAME);
  return { dir, runDir, socket, url: `mongodb://${encodeURIComponent(socket)}/` };
}

function platformDbSpec(config: PlatformConfig): ContainerSpec {
  const { container } = config.platformDb;
  const spec: ContainerSpec = {
    name: container,
    image: config.images.db,
    env: { FERRETDB_LISTEN_ADDR: '127.0.0.1:27017', FERRETDB_LISTEN_UNIX: `${SOCKET_DIR_IN_CONTAINER}/${SOCKET_NAME}` },
    labels: { ...LABELS },
    user: `${DB_UID}:${DB_UID}`,
    networks: [],
    mounts: [
      { volume: names.platformDb(container).volume, target: '/data' },
      { hostPath: platformDbPaths(config.home).runDir, target: SOCKET_DIR_IN_CONTAINER }
    ],
    limits: { memoryBytes: 1024 ** 3, nanoCpus: 1e9, pids: 1024 },
    tmpfs: [{ target: '/tmp', sizeBytes: 64 * 1024 ** 2 }]
  };
  spec.labels[LABEL.configHash] = configHash(spec);
  return spec;
}

/**
 * The parent directory is root's alone (0700), so no other local user reaches
 * the socket whatever its own mode; the inner one belongs to the database's
 * user, who must create the socket in it. Modes are set every time: an
 * operator's umask or an older install must not leave them open.
 */
async function prepareSocketDir(home: string): Promise<void> {
  const { dir, runDir } = platformDbPaths(home);
  try {
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await chown(dir, 0, 0);
    await chmod(dir, 0o700);
    await chown(runDir, DB_UID, DB_UID);
    await chmod(runDir, 0o700);
  } catch (err) {
    throw new BerthError('DB_UNAVAILABLE', `cannot prepare ${dir} for the platform database's socket (the orchestrator runs as root): ${(err as Error).message}`, undefined, { cause: err });
  }
}

export async function ensurePlatformDb(runtime: ContainerRuntime, config: PlatformConfig, timeoutMs = 60_000): Promise<string> {
  if (config.mongoUrl) return config.mongoUrl;
  const spec = platformDbSpec(config);
  const { container, network, volume } = names.platformDb(config.platformDb.container);
  const { socket, url } = platformDbPaths(config.home);
  await prepareSocketDir(config.home);
  let info = await runtime.inspectContainer(container);
  // A name is a claim, the labels are proof: another owner's container is never replaced.
  if (info) assertSameOwner('container', container, info.labels, LABELS);
  if (info && info.labels[LABEL.configHash] !== spec.labels[LABEL.configHash]) {
    // Made by an older Berth (a published TCP port, a network) or for another image: recreated; the data volume stays.
    await runtime.removeContainer(container);
    await runtime.removeNetwork(network);
    info = null;
  }
  if (!info) {
    await runtime.ensureVolume({ name: volume, labels: LABELS });
    await runtime.createContainer(spec);
  }
  if (!info?.running) {
    // A database killed without a clean stop leaves its socket file, and binding to it would fail.
    await rm(socket, { force: true });
    await runtime.startContainer(container);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await runProbe(runtime, container, PROBE);
    const listening = probe.ok && (await stat(socket).then((s) => s.isSocket(), () => false));
    if (listening) return url;
    if (Date.now() > deadline) {
      throw new BerthError('DB_UNAVAILABLE', `platform database ${container} did not answer on ${socket} within ${timeoutMs} ms: ${probe.ok ? 'no socket' : probe.detail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Removes the platform database container (and, if asked, its data). For tests and teardown. */
export async function removePlatformDb(runtime: ContainerRuntime, name: string, deleteData: boolean): Promise<void> {
  const { container, network, volume } = names.platformDb(name);
  await runtime.removeContainer(container);
  // Only platform databases of older Berth versions have a network.
  await runtime.removeNetwork(network);
  if (deleteData) await runtime.removeVolume(volume);
}
