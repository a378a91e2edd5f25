// The Docker driver of the runtime port, and the only module that imports
// dockerode. Every call that changes something logs before and after, and
// errors come back as BerthError: RUNTIME_UNAVAILABLE when the engine does not
// answer, IMAGE_MISSING, or RUNTIME_ERROR carrying Docker's own message.
import Docker from 'dockerode';
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { assertSameOwner, type ObjectKind } from './ownership.js';
import { isRootUser } from './root-user.js';
import { TarDigest } from './tar-digest.js';
import type {
  ContainerDied,
  ContainerInfo,
  ContainerRuntime,
  ContainerSpec,
  ContainerState,
  ContainerStats,
  VolumeExport,
  ContainerSummary,
  ExecResult,
  ImageSummary,
  Labels,
  NetworkSpec,
  TreeDigest,
  VolumeCopy,
  VolumeSpec
} from './types.js';

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE']);

function labelFilter(labels: Labels): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** How long a remove waits for one the engine already has under way. */
const REMOVAL_WAIT_MS = 60_000;

export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(private readonly log: Logger, socketPath = '/var/run/docker.sock') {
    this.docker = new Docker({ socketPath });
  }

  private fail(err: unknown, action: string): never {
    const e = err as DockerError;
    if (e.code && UNREACHABLE.has(e.code)) {
      throw new BerthError('RUNTIME_UNAVAILABLE', `Docker engine does not answer (${e.code}) while trying to ${action}; is dockerd running? (scripts/docker-up)`, undefined, { cause: err });
    }
    const message = e.json?.message ?? e.message;
    if (e.statusCode === 404 && /no such image/i.test(message)) {
      throw new BerthError('IMAGE_MISSING', `${message}: build it with scripts/build-images`, undefined, { cause: err });
    }
    this.log.error({ action, status: e.statusCode, err: message }, 'docker call failed');
    throw new BerthError('RUNTIME_ERROR', `Docker refused to ${action}: ${message}`, { status: e.statusCode }, { cause: err });
  }

  private async call<T>(action: string, work: () => Promise<T>, tolerate: number[] = []): Promise<T | undefined> {
    try {
      return await work();
    } catch (err) {
      if (tolerate.includes((err as DockerError).statusCode ?? -1)) return undefined;
      return this.fail(err, action);
    }
  }

  async ping(): Promise<void> {
    await this.call('ping the engine', () => this.docker.ping());
  }

  async imageExists(ref: string): Promise<boolean> {
    const found = await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect(), [404]);
    return found !== undefined;
  }

  async imageUser(ref: string): Promise<string | null> {
    const image = await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect(), [404]);
    return image ? image.Config.User ?? '' : null;
  }

  async listImages(repository: string): Promise<ImageSummary[]> {
    // The reference filter with a bare repository matches every tag of it.
    const list = await this.call(`list images of ${repository}`, () => this.docker.listImages({ filters: { reference: [repository] } }));
    return (list ?? []).map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((tag) => tag.startsWith(`${repository}:`)),
      createdAt: new Date(i.Created * 1000).toISOString(),
      labels: i.Labels ?? {}
    }));
  }

  /** The labels of an existing object, or undefined when there is none. */
  private async inspectLabels(kind: ObjectKind, name: string): Promise<Docker.NetworkInspectInfo['Labels'] | undefined> {
    const get = {
      container: async () => (await this.docker.getContainer(name).inspect()).Config.Labels ?? {},
      network: async () => (await this.docker.getNetwork(name).inspect() as Docker.NetworkInspectInfo).Labels ?? {},
      volume: async () => (await this.docker.getVolume(name).inspect()).Labels ?? {}
    }[kind];
    return this.call(`inspect ${kind} ${name}`, get, [404]);
  }

  async labelsOf(kind: 'network' | 'volume', name: string): Promise<Labels | null> {
    return (await this.inspectLabels(kind, name)) ?? null;
  }

  /** NAME_TAKEN unless the object is absent or its labels name the wanted owner; true when it exists. */
  private async owned(kind: ObjectKind, name: string, wanted: Labels): Promise<boolean> {
    const labels = await this.inspectLabels(kind, name);
    if (labels === undefined) return false;
    assertSameOwner(kind, name, labels, wanted);
    return true;
  }

  /** owned(), answered from the caller's fresh read when it gives one (null: absent). */
  private async exists(kind: ObjectKind, name: string, wanted: Labels, found: Labels | null | undefined): Promise<boolean> {
    if (found === undefined) return this.owned(kind, name, wanted);
    if (found === null) return false;
    assertSameOwner(kind, name, found, wanted);
    return true;
  }

  async ensureNetwork(spec: NetworkSpec, found?: Labels | null): Promise<void> {
    if (await this.exists('network', spec.name, spec.labels, found)) return;
    this.log.info({ network: spec.name }, 'creating network');
    // 409: a concurrent create won the race; whose it is, is checked below.
    await this.call(
      `create network ${spec.name}`,
      () => this.docker.createNetwork({ Name: spec.name, Driver: 'bridge', Labels: spec.labels, Internal: spec.internal ?? false, CheckDuplicate: true }),
      [409]
    );
    await this.owned('network', spec.name, spec.labels);
    this.log.info({ network: spec.name }, 'created network');
  }

  async removeNetwork(name: string): Promise<void> {
    this.log.info({ network: name }, 'removing network');
    await this.call(`remove network ${name}`, () => this.docker.getNetwork(name).remove(), [404]);
  }

  async listNetworks(labels: Labels) {
    const list = await this.call('list networks', () => this.docker.listNetworks({ filters: { label: labelFilter(labels) } }));
    return (list ?? []).map((n) => ({ name: n.Name, labels: n.Labels ?? {} }));
  }

  async hostGatewayAddress(): Promise<string> {
    // host-gateway is the default bridge's address (dockerd --host-gateway-ip
    // defaults to it). IPAM names it only when set explicitly (bip); else only
    // the bridge interface carries it. Asked of iproute2 rather than
    // os.networkInterfaces(), which leaves out a bridge with no container on
    // it (libuv skips interfaces that are not RUNNING).
    const bridge = await this.call('inspect the default bridge network', () => this.docker.getNetwork('bridge').inspect());
    const gateway = (bridge?.IPAM?.Config as { Gateway?: string }[] | undefined)?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
    if (gateway) return gateway;
    const device = (bridge?.Options as Labels | undefined)?.['com.docker.network.bridge.name'] ?? 'docker0';
    const address = /^[A-Za-z0-9_.-]{1,15}$/.test(device) ? await ipv4Of(device) : undefined;
    if (!address) throw new BerthError('RUNTIME_ERROR', `the default bridge ${device} has no IPv4 address: containers cannot reach the host through host-gateway`);
    return address;
  }

  async ensureVolume(spec: VolumeSpec, found?: Labels | null): Promise<void> {
    if (await this.exists('volume', spec.name, spec.labels, found)) return;
    this.log.info({ volume: spec.name }, 'creating volume');
    // Creating a volume that exists returns it unchanged (a concurrent create
    // may have won), so whose it is, is checked again afterwards.
    await this.call(`create volume ${spec.name}`, () => this.docker.createVolume({ Name: spec.name, Labels: spec.labels }));
    await this.owned('volume', spec.name, spec.labels);
  }

  async removeVolume(name: string): Promise<void> {
    this.log.info({ volume: name }, 'removing volume');
    await this.call(`remove volume ${name}`, () => this.docker.getVolume(name).remove(), [404]);
  }

  async listVolumes(labels: Labels) {
    const list = await this.call('list volumes', () => this.docker.listVolumes({ filters: { label: labelFilter(labels) } }));
    return (list?.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async volumeSizes(labels: Labels): Promise<Map<string, number>> {
    const mine = new Set((await this.listVolumes(labels)).map((v) => v.name));
    const df = (await this.call('read disk usage', () => this.docker.df())) as { Volumes?: { Name: string; UsageData?: { Size?: number } | null }[] } | undefined;
    const sizes = new Map<string, number>();
    for (const v of df?.Volumes ?? []) {
      if (mine.has(v.Name) && typeof v.UsageData?.Size === 'number' && v.UsageData.Size >= 0) sizes.set(v.Name, v.UsageData.Size);
    }
    return sizes;
  }

  async copyVolume(copy: VolumeCopy): Promise<{ from: TreeDigest; to: TreeDigest }> {
    const { helpers } = copy;
    for (const volume of [copy.from, copy.to]) {
      if (!(await this.owned('volume', volume, copy.labels))) throw new BerthError('RUNTIME_ERROR', `volume ${volume} does not exist`);
    }
    // Helpers a crashed copy left behind are ours to replace; anyone else's are not.
    for (const name of [helpers.from, helpers.to]) {
      if (await this.owned('container', name, copy.labels)) await this.removeContainer(name);
    }
    this.log.info({ from: copy.from, to: copy.to }, 'copying volume');
    try {
      const source = await this.helper(helpers.from, copy.image, copy.from, copy.path, copy.labels, 'copy');
      const target = await this.helper(helpers.to, copy.image, copy.to, copy.path, copy.labels, 'copy');
      // The archive of /data holds "data/…": unpacked at its parent it lands in the new volume.
      const archive = (await this.call(`read ${copy.from}`, () => source!.getArchive({ path: copy.path }))) as unknown as Readable;
      const seen = new TarDigest();
      const body = new PassThrough();
      archive.on('data', (chunk: Buffer) => seen.write(chunk));
      archive.pipe(body);
      await this.call(`write ${copy.to}`, () => target!.putArchive(body, { path: path.posix.dirname(copy.path) }));
      const from = seen.digest();
      const to = await this.digestOf(target!, copy.path, copy.to);
      this.log.info({ from: copy.from, to: copy.to, entries: from.entries, bytes: from.bytes }, 'copied volume');
      return { from, to };
    } finally {
      for (const name of [helpers.from, helpers.to]) await this.removeContainer(name);
    }
  }

  async exportVolume(spec: VolumeExport, read: (archive: Readable) => Promise<void>): Promise<void> {
    if (!(await this.owned('volume', spec.volume, spec.labels))) throw new BerthError('RUNTIME_ERROR', `volume ${spec.volume} does not exist`);
    const local = await this.hostPath(spec.volume);
    if (local) return this.tarFromHost(local, spec, read);
    // A helper a crashed export left behind is ours to replace; anyone else's is not.
    if (await this.owned('container', spec.helper, spec.labels)) await this.removeContainer(spec.helper);
    try {
      const helper = await this.helper(spec.helper, spec.image, spec.volume, spec.path, spec.labels, 'export');
      const archive = (await this.call(`read ${spec.volume}`, () => helper!.getArchive({ path: spec.path }))) as unknown as Readable;
      try {
        await read(archive);
      } finally {
        archive.destroy();
      }
    } finally {
      await this.removeContainer(spec.helper);
    }
  }

  /**
   * A container that mounts `volume` at `at` and is never started: the engine
   * reads and writes a stopped container's mounted volumes itself, so the
   * image needs no shell, tar or cp, and nothing of the team's runs.
   */
  private helper(name: string, image: string, volume: string, at: string, labels: Labels, job: string) {
    return this.call(`create helper ${name}`, () =>
      this.docker.createContainer({
        name,
        Image: image,
        Cmd: [`berth-${job}-never-runs`],
        Labels: labels,
        NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume' as const, Source: volume, Target: at }] }
      })
    );
  }

  /**
   * Where a plain local volume's files are on this host, when this process
   * can read them (the engine is local and we are root): GNU tar reads them
   * there at disk speed, where the engine's archive call streams at a
   * fraction of it (measured: 500 MB in 0.5 s against 2.8 s). A volume with
   * driver options (NFS, a bind device) is left to the engine.
   */
  private async hostPath(volume: string): Promise<string | undefined> {
    const info = await this.call(`inspect volume ${volume}`, () => this.docker.getVolume(volume).inspect());
    if (!info || info.Driver !== 'local' || Object.keys(info.Options ?? {}).length > 0 || !info.Mountpoint) return undefined;
    return access(info.Mountpoint, constants.R_OK).then(() => info.Mountpoint, () => undefined);
  }

  /**
   * The volume's tar as the engine's archive call gives it (entries under
   * path's last name), made by GNU tar from the host: argv only, owners as
   * numbers, links kept as links (never followed), one file system.
   */
  private async tarFromHost(dir: string, spec: VolumeExport, read: (archive: Readable) => Promise<void>): Promise<void> {
    const top = path.posix.basename(spec.path);
    const child = spawn('tar', ['--create', '--file=-', '--numeric-owner', '--one-file-system', `--directory=${dir}`, `--transform=s,^\\.,${top},S`, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    try {
      await read(child.stdout);
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      throw err;
    }
    const code = await exited;
    if (code !== 0) throw new BerthError('RUNTIME_ERROR', `reading volume ${spec.volume} failed (tar exited ${code}): ${stderr.trim().slice(0, 500)}`);
  }

  async importVolume(spec: VolumeExport, archive: Readable): Promise<TreeDigest> {
    if (!(await this.owned('volume', spec.volume, spec.labels))) throw new BerthError('RUNTIME_ERROR', `volume ${spec.volume} does not exist`);
    if (await this.owned('container', spec.helper, spec.labels)) await this.removeContainer(spec.helper);
    try {
      const helper = await this.helper(spec.helper, spec.image, spec.volume, spec.path, spec.labels, 'import');
      // The archive of /data holds "data/…": unpacked at its parent it lands in
      // the volume. The engine unpacks it (confined to the container's mounts):
      // what a team wrote into its volume may be hostile, and is never unpacked
      // by us on the host.
      await this.call(`write ${spec.volume}`, () => helper!.putArchive(archive, { path: path.posix.dirname(spec.path) }));
      // Read back the way exportVolume reads it, so the two digests compare like with like.
      let digest: TreeDigest | undefined;
      await this.exportVolume({ ...spec, helper: `${spec.helper}-check` }, async (tar) => {
        const d = new TarDigest();
        for await (const chunk of tar) d.write(chunk as Buffer);
        digest = d.digest();
      });
      return digest!;
    } finally {
      await this.removeContainer(spec.helper);
    }
  }

  private async digestOf(container: Docker.Container, at: string, volume: string): Promise<TreeDigest> {
    const archive = (await this.call(`read ${volume}`, () => container.getArchive({ path: at }))) as unknown as Readable;
    const digest = new TarDigest();
    for await (const chunk of archive) digest.write(chunk as Buffer);
    return digest.digest();
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const port = spec.publish ? `${spec.publish.containerPort}/tcp` : undefined;
    const [first, ...others] = spec.networks;
    // Join nothing and mount nothing another owner holds; a missing volume
    // would be made by Docker without labels, so it must exist already.
    // All read at once: on a loaded engine each call is slow, not the checks.
    const volumes = spec.mounts.flatMap((m) => ('volume' in m ? [m.volume] : [])); // a host path: only platform containers have one
    const [, networksExist, volumesExist] = await inOrder([
      this.owned('container', spec.name, spec.labels).then(() => []),
      inOrder(spec.networks.map((net) => this.owned('network', net.name, spec.labels))),
      inOrder(volumes.map((volume) => this.owned('volume', volume, spec.labels))),
      this.refuseRoot(spec).then(() => [])
    ]);
    const noNetwork = spec.networks.find((_, i) => !networksExist![i]);
    if (noNetwork) throw new BerthError('RUNTIME_ERROR', `network ${noNetwork.name} of container ${spec.name} does not exist`);
    const noVolume = volumes.find((_, i) => !volumesExist![i]);
    if (noVolume) throw new BerthError('RUNTIME_ERROR', `volume ${noVolume} of container ${spec.name} does not exist`);
    const relax = spec.relax ?? {};
    this.log.info({ container: spec.name, image: spec.image }, 'creating container');
    const created = await this.call(`create container ${spec.name}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.cmd,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        User: spec.user,
        ExposedPorts: port ? { [port]: {} } : undefined,
        HostConfig: {
          NetworkMode: first?.name ?? 'none',
          Mounts: spec.mounts.map((m) =>
            'volume' in m ? { Type: 'volume' as const, Source: m.volume, Target: m.target } : { Type: 'bind' as const, Source: m.hostPath, Target: m.target }
          ),
          ExtraHosts: spec.extraHosts,
          Tmpfs: Object.fromEntries((spec.tmpfs ?? []).map((t) => [t.target, `rw,noexec,nosuid,nodev,mode=1777,size=${t.sizeBytes}`])),
          PortBindings: port ? { [port]: [{ HostIp: '127.0.0.1', HostPort: spec.publish!.hostPort ? String(spec.publish!.hostPort) : '' }] } : undefined,
          Memory: spec.limits.memoryBytes,
          MemorySwap: spec.limits.memoryBytes, // no swap beyond the memory limit
          NanoCpus: spec.limits.nanoCpus,
          PidsLimit: spec.limits.pids,
          // The runtime's defaults, whatever the template said; a plan's allow list is the only way past them.
          CapDrop: ['ALL'],
          CapAdd: relax.capAdd ?? [],
          Privileged: relax.privileged ?? false,
          SecurityOpt: securityOpt(relax.securityOpt),
          ReadonlyRootfs: !relax.writableRootfs,
          // A process that crashes is started again by the engine at once; a
          // crash loop ends after maxRetries (the crash watcher judges it then).
          RestartPolicy: spec.restart && spec.restart.maxRetries > 0 ? { Name: 'on-failure', MaximumRetryCount: spec.restart.maxRetries } : { Name: 'no' }
        },
        NetworkingConfig: first ? { EndpointsConfig: { [first.name]: { Aliases: first.aliases } } } : undefined
      })
    ).catch(async (err: unknown) => {
      // 409: made meanwhile under this name; NAME_TAKEN when by someone else.
      if (err instanceof BerthError && err.details?.status === 409) await this.owned('container', spec.name, spec.labels);
      throw err;
    });
    // Docker joins one network at create; the others are connected before start.
    for (const net of others) {
      await this.call(`connect ${spec.name} to ${net.name}`, () =>
        this.docker.getNetwork(net.name).connect({ Container: created!.id, EndpointConfig: { Aliases: net.aliases } })
      );
    }
    this.log.info({ container: spec.name, id: created!.id }, 'created container');
    return created!.id;
  }

  /** A container runs as its spec's user, else its image's; root only when its plan allowed it. */
  private async refuseRoot(spec: ContainerSpec): Promise<void> {
    if (spec.relax?.rootUser) return;
    const user = spec.user ?? (await this.imageUser(spec.image));
    if (user === null) throw new BerthError('IMAGE_MISSING', `image ${spec.image} is not on this host: build it with scripts/build-images`, { image: spec.image });
    if (isRootUser(user)) {
      throw new BerthError('ROOT_REFUSED', `container ${spec.name} would run as root (user "${user || 'root'}" of ${spec.user === undefined ? `image ${spec.image}` : 'its template'}); run it as another user, or let its plan allow root_user`, { container: spec.name, image: spec.image });
    }
  }

  async startContainer(name: string): Promise<void> {
    this.log.info({ container: name }, 'starting container');
    // 304: already running.
    await this.call(`start container ${name}`, () => this.docker.getContainer(name).start(), [304]);
  }

  async stopContainer(name: string, timeoutSeconds = 10): Promise<void> {
    this.log.info({ container: name }, 'stopping container');
    await this.call(`stop container ${name}`, () => this.docker.getContainer(name).stop({ t: timeoutSeconds }), [304, 404]);
  }

  async pauseContainer(name: string): Promise<void> {
    this.log.info({ container: name }, 'pausing container');
    await this.call(`pause container ${name}`, () => this.docker.getContainer(name).pause().catch((err: DockerError) => {
      // The engine answers 409 or 500; "not running" is a real refusal, only "already paused" is done already.
      if (/already paused/i.test(err.json?.message ?? err.message)) return;
      throw err;
    }));
  }

  async unpauseContainer(name: string): Promise<void> {
    this.log.info({ container: name }, 'unpausing container');
    await this.call(`unpause container ${name}`, () => this.docker.getContainer(name).unpause().catch((err: DockerError) => {
      if (/is not paused/i.test(err.json?.message ?? err.message)) return;
      throw err;
    }));
  }

  async removeContainer(name: string): Promise<void> {
    this.log.info({ container: name }, 'removing container');
    // v: the anonymous volumes an image's VOLUME made for a path the spec did not
    // mount (they hold nothing of the team's and would pile up); named volumes,
    // the team's data, are never removed by this.
    const action = `remove container ${name}`;
    try {
      await this.docker.getContainer(name).remove({ force: true, v: true });
    } catch (err) {
      const e = err as DockerError;
      if (e.statusCode === 404) return;
      // An earlier remove the engine went on with after we stopped waiting
      // (a call deadline): the container is going; wait until it is gone.
      if (e.statusCode === 409 && /already in progress/i.test(e.json?.message ?? e.message)) return this.untilGone(name, action);
      this.fail(err, action);
    }
  }

  async setCpus(name: string, nanoCpus: number): Promise<void> {
    this.log.info({ container: name, cpus: nanoCpus / 1e9 }, 'setting cpu limit');
    // docker update: the engine rewrites the CFS quota of the running cgroup.
    await this.call(`set the cpu limit of ${name}`, () => this.docker.getContainer(name).update({ NanoCpus: nanoCpus }));
  }

  private async untilGone(name: string, action: string): Promise<void> {
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while (Date.now() < deadline) {
      if (!(await this.call(`inspect container ${name}`, () => this.docker.getContainer(name).inspect(), [404]))) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new BerthError('RUNTIME_ERROR', `Docker did not finish removing container ${name} within ${REMOVAL_WAIT_MS} ms (${action}: a removal was already in progress)`);
  }

  async inspectContainer(name: string): Promise<ContainerInfo | null> {
    const c = await this.call(`inspect container ${name}`, () => this.docker.getContainer(name).inspect(), [404]);
    if (!c) return null;
    const published: Record<number, number> = {};
    for (const [port, bindings] of Object.entries(c.NetworkSettings.Ports ?? {})) {
      const hostPort = bindings?.find((b) => b.HostIp === '127.0.0.1')?.HostPort;
      if (hostPort) published[Number.parseInt(port, 10)] = Number(hostPort);
    }
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      image: c.Config.Image,
      state: c.State.Status as ContainerState,
      labels: c.Config.Labels ?? {},
      running: c.State.Running,
      startedAt: c.State.StartedAt,
      exitCode: c.State.ExitCode,
      published,
      networks: Object.keys(c.NetworkSettings.Networks ?? {}),
      nanoCpus: c.HostConfig.NanoCpus ?? 0
    };
  }

  async listContainers(labels: Labels): Promise<ContainerSummary[]> {
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } }));
    return (list ?? []).map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state: c.State as ContainerState,
      labels: c.Labels ?? {}
    }));
  }

  async exec(name: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const container = this.docker.getContainer(name);
    const exec = await this.call(`exec in ${name}`, () => container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true }));
    const stream = await this.call(`exec in ${name}`, () => exec!.start({ hijack: true, stdin: false }));
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    this.docker.modem.demuxStream(stream!, sink, sink);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream!.destroy();
        reject(new BerthError('RUNTIME_ERROR', `exec ${argv[0]} in ${name} gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      stream!.on('end', () => { clearTimeout(timer); resolve(); });
      stream!.on('close', () => { clearTimeout(timer); resolve(); });
      stream!.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    const info = await this.call(`inspect exec in ${name}`, () => exec!.inspect());
    return { exitCode: info?.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
  }

  async logs(name: string, tail: number): Promise<string> {
    const raw = await this.call(`read logs of ${name}`, () =>
      this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false })
    );
    return demux(raw as unknown as Buffer);
  }

  async followLogs(name: string, tail: number, onLine: (line: string) => void, onEnd: () => void): Promise<() => void> {
    const stream = (await this.call(`follow logs of ${name}`, () =>
      this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: true })
    )) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const sink = new PassThrough();
    let pending = '';
    sink.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    this.docker.modem.demuxStream(stream, sink, sink);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (pending) onLine(pending);
      onEnd();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
    return () => {
      stream.destroy();
      end();
    };
  }

  async watchDeaths(labels: Labels, since: bigint | undefined, onDied: (event: ContainerDied) => void, onEnd: (err?: Error) => void): Promise<() => void> {
    const filters = { type: ['container'], event: ['die'], label: labelFilter(labels) };
    const stream = (await this.call('watch container events', () =>
      this.docker.getEvents({ filters, ...(since !== undefined ? { since: sinceArg(since) } : {}) } as Docker.GetEventsOptions)
    )) as unknown as NodeJS.ReadableStream & { destroy(): void };
    this.log.info({ labels }, 'watching container deaths');
    let pending = '';
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const died = line.trim() ? diedFrom(line) : undefined;
        if (died) onDied(died);
      }
    });
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (err: Error) => end(err));
    return () => {
      stream.destroy();
      end();
    };
  }

  async stats(name: string): Promise<ContainerStats | null> {
    const s = await this.call(`read stats of ${name}`, () => this.docker.getContainer(name).stats({ stream: false }), [404, 409]);
    if (!s) return null;
    // Docker's own formula (docker stats): CPU delta over system delta, times online CPUs.
    const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats.cpu_usage?.total_usage ?? 0);
    const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
    const cpus = s.cpu_stats.online_cpus ?? 1;
    return {
      cpuPercent: systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0,
      memoryBytes: s.memory_stats.usage ?? 0,
      memoryLimitBytes: s.memory_stats.limit ?? 0,
      pids: s.pids_stats?.current ?? 0,
      ...blockIo(s.blkio_stats?.io_service_bytes_recursive)
    };
  }
}

/** A cgroup's block I/O totals: cgroup v1 names the ops Read/Write, v2 read/write; other ops (Sync, Total…) are left out. */
function blockIo(entries: { op: string; value: number }[] | null | undefined): { blockReadBytes: number; blockWriteBytes: number } {
  let blockReadBytes = 0;
  let blockWriteBytes = 0;
  for (const e of entries ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') blockReadBytes += e.value;
    else if (op === 'write') blockWriteBytes += e.value;
  }
  return { blockReadBytes, blockWriteBytes };
}

/**
 * Promise.all, but a refusal is the first in the list's order rather than
 * the first to arrive: checks run at once and still fail the same way.
 */
async function inOrder<T>(work: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const refused = settled.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (refused) throw refused.reason;
  return settled.map((c) => (c as PromiseFulfilledResult<T>).value);
}

/** Docker's `since`: seconds.nanoseconds. */
function sinceArg(timeNano: bigint): string {
  return `${timeNano / 1_000_000_000n}.${String(timeNano % 1_000_000_000n).padStart(9, '0')}`;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  id?: string;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** A `die` event of the stream as Berth's type; labels are the berth.* attributes (Docker mixes in name, image, exitCode). */
export function diedFrom(line: string): ContainerDied | undefined {
  let e: DockerEvent;
  try {
    e = JSON.parse(line) as DockerEvent;
  } catch {
    return undefined;
  }
  if (e.Type !== 'container' || e.Action !== 'die' || !e.Actor?.Attributes) return undefined;
  const attrs = e.Actor.Attributes;
  const labels = Object.fromEntries(Object.entries(attrs).filter(([k]) => k.startsWith('berth.')));
  const exitCode = attrs.exitCode === undefined ? undefined : Number(attrs.exitCode);
  // timeNano exceeds 2^53: JSON.parse rounded it; good to ~a microsecond, plenty to resume from.
  const timeNano = BigInt(Math.trunc(e.timeNano ?? Date.now() * 1e6));
  return { id: e.Actor.ID ?? e.id ?? '', name: attrs.name ?? '', labels, ...(Number.isInteger(exitCode) ? { exitCode } : {}), timeNano };
}

/** The interface's first IPv4 address (`ip -j -4 addr show dev NAME`), or undefined. */
function ipv4Of(device: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', '-4', 'addr', 'show', 'dev', device], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const links = JSON.parse(stdout) as { addr_info?: { family?: string; local?: string }[] }[];
        resolve(links[0]?.addr_info?.find((a) => a.family === 'inet')?.local);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** no-new-privileges unless a plan's security_opt says otherwise about it. */
function securityOpt(extra: string[] = []): string[] {
  return extra.some((o) => o.startsWith('no-new-privileges')) ? extra : ['no-new-privileges:true', ...extra];
}

/** Docker multiplexes stdout and stderr of non-TTY containers into 8-byte-headed frames. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}
