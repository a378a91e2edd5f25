// The container-runtime port: the only way the engine touches containers.
// It speaks Berth's own types; a driver (Docker today) translates them.

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
  /** user[:group] to run as instead of the image's USER. */
  user?: string;
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
  capDrop: string[];
  capAdd: string[];
  securityOpt: string[];
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
}

export interface ContainerStats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
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
  /** Images tagged in `repository` (e.g. berth/tenant-app), one list call. */
  listImages(repository: string): Promise<ImageSummary[]>;

  ensureNetwork(spec: NetworkSpec): Promise<void>;
  removeNetwork(name: string): Promise<void>;
  listNetworks(labels: Labels): Promise<{ name: string; labels: Labels }[]>;

  /** The host's address as containers reach it through the host-gateway name. */
  hostGatewayAddress(): Promise<string>;

  ensureVolume(spec: VolumeSpec): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labels: Labels): Promise<{ name: string; labels: Labels }[]>;

  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(name: string): Promise<void>;
  stopContainer(name: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(name: string): Promise<void>;
  /** null when no such container exists. */
  inspectContainer(name: string): Promise<ContainerInfo | null>;
  /** One call for every container carrying all of these labels. */
  listContainers(labels: Labels): Promise<ContainerSummary[]>;
  exec(name: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  logs(name: string, tail: number): Promise<string>;
  /** Follows new log lines until the returned stop function is called or the container ends. */
  followLogs(name: string, tail: number, onLine: (line: string) => void, onEnd: () => void): Promise<() => void>;
  stats(name: string): Promise<ContainerStats | null>;
}
