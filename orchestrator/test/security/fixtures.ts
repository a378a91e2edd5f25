// What the security tests share: teams made through the API, their containers
// and networks found by label (never by a name this file spells), the
// addresses Docker gave them, and a victim's data written through its own app.
import { randomBytes } from 'node:crypto';
import { LABEL } from '../../src/runtime/labels.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { downStack } from '../../src/stacks/stack-runner.js';
import { docker, runtime } from '../helpers/docker.js';
import type { TestPlatform } from '../helpers/platform.js';
import { throughNginx, type Answer } from '../helpers/through-nginx.js';
import { operationEnd } from '../helpers/wait.js';

export interface Created {
  status: number;
  /** The API's error code when refused. */
  code?: string;
  /** How the create operation ended, when it was accepted. */
  outcome?: 'operation.succeeded' | 'operation.failed';
  detail?: string;
}

/** POST /api/v1/tenants and, when accepted, wait for the operation to end. */
export async function createTeam(tp: TestPlatform, slug: string, extra: Record<string, string> = {}): Promise<Created> {
  const res = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { authorization: `Bearer ${tp.token}` }, payload: { slug, ...extra } });
  const body = res.json() as { operation?: { id: string }; error?: { code: string; message: string } };
  if (res.statusCode !== 202 || !body.operation) return { status: res.statusCode, code: body.error?.code, detail: body.error?.message };
  const end = await operationEnd(tp.platform.events, body.operation.id, 180_000);
  return { status: 202, outcome: end.type as Created['outcome'], detail: JSON.stringify(end.data) };
}

export async function mustCreate(tp: TestPlatform, slug: string, extra: Record<string, string> = {}): Promise<void> {
  const made = await createTeam(tp, slug, extra);
  if (made.outcome !== 'operation.succeeded') throw new Error(`setup: creating ${slug} failed: ${JSON.stringify(made)}`);
}

/**
 * Deletes a team with its data through the API; when the API cannot (the
 * registry's database was taken by a collision), removes what is labelled for
 * it, so the next case starts from a clean engine.
 */
export async function removeTeam(tp: TestPlatform, slug: string): Promise<void> {
  const res = await tp.platform.app.inject({
    method: 'DELETE', url: `/api/v1/tenants/${slug}?deleteData=true&confirm=${slug}`, headers: { authorization: `Bearer ${tp.token}` }
  }).catch(() => undefined);
  const operation = res?.statusCode === 202 ? (res.json() as { operation: { id: string } }).operation.id : undefined;
  const end = operation ? await operationEnd(tp.platform.events, operation, 120_000).catch(() => undefined) : undefined;
  if (end?.type !== 'operation.succeeded') await downStack(runtime, slug, { deleteData: true, platform: tp.config.platformId });
}

export interface NetworkFacts {
  name: string;
  id: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  labels: Record<string, string>;
  /** Every container attached, with its labels. */
  attached: { name: string; ip: string; labels: Record<string, string> }[];
}

export interface ContainerFacts {
  name: string;
  id: string;
  labels: Record<string, string>;
  /** Network name → IPv4 address; a container on no network ("none") has none. */
  addresses: Record<string, string>;
  /** Docker's network mode: a network's name, or "none". */
  networkMode: string;
  /** Every port published on the host, as "<host ip>:<host port>-><container port>". */
  published: string[];
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string> | null };
  State: { Running: boolean };
  HostConfig: { NetworkMode: string; PortBindings: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  NetworkSettings: {
    Networks: Record<string, { IPAddress: string; NetworkID: string }>;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string }[];
}

export async function inspectContainer(nameOrId: string): Promise<InspectedContainer> {
  return (JSON.parse(await docker('container', 'inspect', nameOrId)) as InspectedContainer[])[0]!;
}

export async function containerFacts(nameOrId: string): Promise<ContainerFacts> {
  const c = await inspectContainer(nameOrId);
  const addresses: Record<string, string> = {};
  // Network mode "none" shows as a network "none" without an address.
  for (const [network, settings] of Object.entries(c.NetworkSettings.Networks)) if (settings.IPAddress) addresses[network] = settings.IPAddress;
  const published = [c.HostConfig.PortBindings, c.NetworkSettings.Ports].flatMap((ports) => Object.entries(ports ?? {}))
    .flatMap(([port, bindings]) => (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${port}`));
  return { name: c.Name.replace(/^\//, ''), id: c.Id, labels: c.Config.Labels ?? {}, addresses, networkMode: c.HostConfig.NetworkMode, published: [...new Set(published)] };
}

export async function networkFacts(name: string): Promise<NetworkFacts> {
  const [n] = JSON.parse(await docker('network', 'inspect', name)) as {
    Name: string; Id: string; Internal: boolean; Labels: Record<string, string> | null;
    IPAM: { Config: { Subnet: string; Gateway: string }[] | null };
    Containers: Record<string, { Name: string; IPv4Address: string }> | null;
  }[];
  const attached = [];
  for (const [id, c] of Object.entries(n!.Containers ?? {})) {
    attached.push({ name: c.Name, ip: c.IPv4Address.split('/')[0]!, labels: (await inspectContainer(id)).Config.Labels ?? {} });
  }
  // Docker's "none" and "host" networks have no address pool.
  const ipam = n!.IPAM.Config?.[0] ?? { Subnet: '', Gateway: '' };
  return { name: n!.Name, id: n!.Id, subnet: ipam.Subnet, gateway: ipam.Gateway, internal: n!.Internal, labels: n!.Labels ?? {}, attached };
}

export interface TeamFacts {
  slug: string;
  /** Service name (berth.service label) → its container. */
  services: Record<string, ContainerFacts>;
  /** The networks labelled for the team. */
  networks: NetworkFacts[];
  /** The volumes labelled for the team. */
  volumes: string[];
}

/** Everything the engine holds for one team of this platform, found by label. */
export async function teamFacts(tp: TestPlatform, slug: string): Promise<TeamFacts> {
  const owner = { [LABEL.platform]: tp.config.platformId, [LABEL.tenant]: slug };
  const services: Record<string, ContainerFacts> = {};
  for (const c of await runtime.listContainers(owner)) services[c.labels[LABEL.service]!] = await containerFacts(c.id);
  const networks = await Promise.all((await runtime.listNetworks(owner)).map((n) => networkFacts(n.name)));
  const volumes = (await runtime.listVolumes(owner)).map((v) => v.name);
  return { slug, services, networks, volumes };
}

/** The containers (with their labels) that mount a volume. */
export async function volumeUsers(volume: string): Promise<Record<string, string>[]> {
  const ids = (await docker('ps', '-aq', '--no-trunc', '--filter', `volume=${volume}`)).split('\n').filter(Boolean);
  return Promise.all(ids.map(async (id) => (await inspectContainer(id)).Config.Labels ?? {}));
}

export const SERVICE_PORTS: Record<string, number> = { db: 27017, storage: 9000, app: 3000 };

/** A team's own data: a board item and an attachment, written through its app as its owner. */
export interface VictimData {
  itemId: string;
  title: string;
  attachmentId: string;
  bytes: Buffer;
  /** Reads both back through the app; true when both are there, unchanged. */
  intact(): Promise<{ item: boolean; attachment: boolean }>;
}

/**
 * Written and read as the team's visitors do: through the platform's nginx
 * with the team's Host header (nginx sets X-Forwarded-For, which the app's
 * image requires), each request with a deadline.
 */
export async function writeVictimData(tp: TestPlatform, slug: string): Promise<VictimData> {
  const setup = await tp.platform.tenantViews.ownerSetupUrl(slug);
  if (!setup) throw new Error(`setup: ${slug} has no owner setup link (created without ownerEmail?)`);
  const visit = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) => throughNginx(tp, slug, method, path, headers, body);
  const json = <T>(what: string, answer: Answer, status = 200): T => {
    if (answer.status !== status) throw new Error(`setup: ${what} for ${slug} answered ${answer.status}: ${answer.body.toString().slice(0, 300)}`);
    return JSON.parse(answer.body.toString()) as T;
  };
  // The form post must come from the team's public address (SvelteKit's origin check).
  const { origin, pathname } = new URL(setup);
  const welcome = await visit('POST', pathname, { origin, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    new URLSearchParams({ name: 'Owner', password: 'victim passphrase 4 tests', confirm: 'victim passphrase 4 tests' }).toString());
  const cookie = [welcome.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
  if (!cookie) throw new Error(`setup: the owner link of ${slug} gave no session (${welcome.status}: ${welcome.body.toString().slice(0, 300)})`);
  const { csrf } = json<{ csrf: string }>('GET /api/session', await visit('GET', '/api/session', { cookie }));
  const auth = { cookie, 'x-csrf-token': csrf };
  const title = `victim item ${randomBytes(6).toString('hex')}`;
  const made = await visit('POST', '/api/items', { ...auth, 'content-type': 'application/json' }, JSON.stringify({ title }));
  const itemId = json<{ item: { id: string } }>('POST /api/items', made, 201).item.id;
  const bytes = randomBytes(4096);
  const uploaded = await visit('POST', `/api/items/${itemId}/attachments?name=victim.bin`, { ...auth, 'content-type': 'application/octet-stream' }, bytes);
  const attachmentId = json<{ attachment: { id: string } }>('POST attachments', uploaded, 201).attachment.id;
  return {
    itemId, title, attachmentId, bytes,
    async intact() {
      const items = await visit('GET', '/api/items', auth);
      const listed = items.status === 200 && (JSON.parse(items.body.toString()) as { items: { id: string; title: string }[] }).items.some((i) => i.id === itemId && i.title === title);
      const file = await visit('GET', `/api/items/${itemId}/attachments/${attachmentId}`, auth);
      return { item: listed, attachment: file.status === 200 && file.body.equals(bytes) };
    }
  };
}

/** The team's /healthz through the platform's nginx, by its host name. */
export async function healthThroughNginx(tp: TestPlatform, slug: string): Promise<number> {
  const answer = await httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 10_000, { host: `${slug}.${tp.config.baseDomain}` });
  return answer.status;
}
