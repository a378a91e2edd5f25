// The container-runtime port: the only way the engine touches containers.
// It speaks Berth's own types; a driver (Docker today) translates them.
import type { Readable } from 'node:stream';

export type Labels = Record<string, string>;

export interface NetworkSpec {
  name: string;
  labels: Labels;
  /** No route out of the network (and so none to other tenants' networks). */
  internal?: boolean;
}

export interface VolumeSpec {
  name: string;
  labels: Labels;
}

export interface ResourceLimits {
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
}

/**
 * A named volume, or a host directory. Host directories are for the platform's
 * own containers only (its database's socket); stacks render volumes alone.
 */
export type Mount = { volume: string; target: string } | { hostPath: string; target: string };

export interface ContainerSpec {
  name: string;
  image: string;
  cmd?: string[];
  env: Record<string, string>;
  labels: Labels;
  /**
   * The first network is joined at create, the others right after; aliases are
   * the DNS names others use. None: the container has only its loopback.
   */
  networks: { name: string; aliases: string[] }[];
  mounts: Mount[];
  /** "name:address" lines for /etc/hosts; the address host-gateway is the host as containers reach it. */
  extraHosts?: string[];
  /** Publish containerPort on 127.0.0.1; hostPort 0 lets the engine choose. */
  publish?: { containerPort: number; hostPort: number };
  limits: ResourceLimits;
  /** uid[:gid] to run as; else the image's own user. Either way never root unless `relax.rootUser`. */
  user?: string;
  /** Writable scratch paths on the read-only root filesystem, each a private tmpfs counted in the memory limit. */
  tmpfs?: { target: string; sizeBytes: number }[];
  /** What this container may have beyond the runtime's defaults; only a plan that allows it sets any. */
  relax?: Relaxations;
  /**
   * The engine restarts the container itself when its process exits non-zero,
   * up to `maxRetries` times (Docker's on-failure policy); absent: never. A
   * stop or kill through the engine is never restarted by it (see
   * health/crash-watch.ts).
   */
  restart?: { maxRetries: number };
}

/**
 * Every container runs with all capabilities dropped, no-new-privileges, its
 * pids limit, a read-only root filesystem and a non-root user; the driver
 * enforces these whatever a spec says, and weakens one only when asked here.
 */
export interface Relaxations {
  capAdd?: string[];
  privileged?: boolean;
  /** Extra --security-opt values (e.g. seccomp=unconfined); no-new-privileges stays unless one overrides it. */
  securityOpt?: string[];
  rootUser?: boolean;
  writableRootfs?: boolean;
}

/** One volume's data moved to another through two stopped helper containers. */
export interface VolumeCopy {
  from: string;
  to: string;
  /** An image that mounts the volume (the service's own: no shell or tool in it is needed). */
  image: string;
  /** Where that image mounts it. */
  path: string;
  /** Names for the two helper containers, and their labels (the same owner as the volumes). */
  helpers: { from: string; to: string };
  labels: Labels;
}

/** A volume read as a tar stream through a helper container that mounts it (never started). */
export interface VolumeExport {
  volume: string;
  /** An image that mounts the volume (the service's own). */
  image: string;
  /** Where that image mounts it. */
  path: string;
  /** The helper container's name, and its labels (the same owner as the volume). */
  helper: string;
  labels: Labels;
}

/** A file tree's digest: every entry's path, type, mode, owner, size and content, in order. */
export interface TreeDigest {
  entries: number;
  bytes: number;
  sha256: string;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  labels: Labels;
}

export interface ContainerInfo extends ContainerSummary {
  running: boolean;
  startedAt?: string;
  exitCode?: number;
  /** Host port on 127.0.0.1 for each published container port. */
  published: Record<number, number>;
  /** Networks it is attached to. */
  networks: string[];
  /** Its CPU limit now (a starting service may be above its plan's: see setCpus). */
  nanoCpus: number;
}

/** A container ended (Docker's `die`), as the engine's event stream tells it. */
export interface ContainerDied {
  id: string;
  name: string;
  labels: Labels;
  exitCode?: number;
  /** Nanoseconds since the epoch, the engine's clock: where a reconnected stream picks up. */
  timeNano: bigint;
}

export interface ContainerStats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  /** Bytes read from and written to block devices since the container started (its cgroup's blkio/io counters). */
  blockReadBytes: number;
  blockWriteBytes: number;
}

/** One image, with every tag it carries in the repository asked for. */
export interface ImageSummary {
  id: string;
  /** Full references, e.g. berth/tenant-app:0.2.0. */
  tags: string[];
  createdAt: string;
  labels: Labels;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface ContainerRuntime {
  /** Throws RUNTIME_UNAVAILABLE when the engine does not answer. */
  ping(): Promise<void>;
  imageExists(ref: string): Promise<boolean>;
  /** The user an image runs as ('' is root); null when the image is not on this host. */
  imageUser(ref: string): Promise<string | null>;
  /** Images tagged in `repository` (e.g. berth/tenant-app), one list call. */
  listImages(repository: string): Promise<ImageSummary[]>;

  /**
   * The ensure* and createContainer calls reuse or join an existing object
   * only when its berth.platform, berth.tenant and berth.role labels equal the
   * spec's; otherwise they throw NAME_TAKEN naming it, and change nothing.
   * `found`: the object's labels as the caller just read them (labelsOf,
   * null: none), already checked as ours: no inspect is spent on it again.
   */
  ensureNetwork(spec: NetworkSpec, found?: Labels | null): Promise<void>;
  /** The labels of the network or volume of this name; null when there is none. */
  labelsOf(kind: 'network' | 'volume', name: string): Promise<Labels | null>;
  removeNetwork(name: string): Promise<void>;
  listNetworks(labels: Labels): Promise<{ name: string; labels: Labels }[]>;

  /** The host's address as containers reach it through the host-gateway name. */
  hostGatewayAddress(): Promise<string>;

  ensureVolume(spec: VolumeSpec, found?: Labels | null): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labels: Labels): Promise<{ name: string; labels: Labels }[]>;
  /** Bytes on disk of each volume carrying `labels` (the engine's disk-usage report walks every volume: call it rarely). */
  volumeSizes(labels: Labels): Promise<Map<string, number>>;
  /**
   * Copies volume `from` into volume `to` (ownership, modes and times kept)
   * and returns the digest of each side's tree read back from the engine.
   * The helper containers are removed afterwards; the volumes are not.
   */
  copyVolume(copy: VolumeCopy): Promise<{ from: TreeDigest; to: TreeDigest }>;
  /** Hands the volume's tar stream (its files under path's last name) to `read`, and removes the helper when `read` is done. */
  exportVolume(spec: VolumeExport, read: (archive: Readable) => Promise<void>): Promise<void>;
  /**
   * Unpacks `archive` (a tar whose entries are under path's last name, as
   * exportVolume gives them) into the volume, through a helper never started,
   * and returns the digest of the tree read back. The volume should be empty:
   * nothing in it is removed first.
   */
  importVolume(spec: VolumeExport, archive: Readable): Promise<TreeDigest>;

  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(name: string): Promise<void>;
  stopContainer(name: string, timeoutSeconds?: number): Promise<void>;
  /**
   * Freezes every process of a running container (the cgroup freezer): its
   * memory stays, it uses no CPU. Pausing a paused container is no error.
   */
  pauseContainer(name: string): Promise<void>;
  /** Thaws a paused container; one that is not paused is no error. */
  unpauseContainer(name: string): Promise<void>;
  removeContainer(name: string): Promise<void>;
  /**
   * Changes a container's CPU limit in place (running or not): a starting
   * service gets more than its plan, and is held to the plan once healthy.
   */
  setCpus(name: string, nanoCpus: number): Promise<void>;
  /** null when no such container exists. */
  inspectContainer(name: string): Promise<ContainerInfo | null>;
  /** One call for every container carrying all of these labels. */
  listContainers(labels: Labels): Promise<ContainerSummary[]>;
  exec(name: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  logs(name: string, tail: number): Promise<string>;
  /** Follows new log lines until the returned stop function is called or the container ends. */
  followLogs(name: string, tail: number, onLine: (line: string) => void, onEnd: () => void): Promise<() => void>;
  stats(name: string): Promise<ContainerStats | null>;
  /**
   * Follows the engine's event stream for the `die` of containers carrying
   * all of these labels, from `since` (nanoseconds, the engine's clock) when
   * given, so a reconnect misses nothing. Resolves once the stream is open;
   * `onEnd` is called once when it drops (with the error, if any) or is stopped.
   */
  watchDeaths(labels: Labels, since: bigint | undefined, onDied: (event: ContainerDied) => void, onEnd: (err?: Error) => void): Promise<() => void>;
}
