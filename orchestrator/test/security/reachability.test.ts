// A hostile team's app, from its own shell as its own user, tries to reach
// another team's app, database and storage (by name and by address), the
// platform's database, the orchestrator API, a console-like listener and nginx
// on every host address it can see, and the Docker socket. Every attempt
// fails; the same probes reach the attacker's own services and a listener the
// test opens on the one port the host firewall leaves open, so nothing passes
// by being unable to connect at all. Targets are only the containers,
// networks and bridges this test made. Needs scripts/docker-up's firewall.
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';
import { containerFacts, healthThroughNginx, mustCreate, networkFacts, teamFacts, writeVictimData, type NetworkFacts } from './fixtures.js';
import { logProbes, probeFrom, type Probe } from './probes.js';
import { expectIsolated, ownServiceProbes, resolvesOwnServices, victimProbes } from './targets.js';

const run = promisify(execFile);

const tp = await startTestPlatform('sec');
const servers: net.Server[] = [];
t.teardown(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  await tp.close();
});

const victim = testSlug('vic');
const attacker = testSlug('atk');
await mustCreate(tp, victim, { ownerEmail: 'owner@victim.test' });
await mustCreate(tp, attacker);
const data = await writeVictimData(tp, victim);
const V = await teamFacts(tp, victim);
const A = await teamFacts(tp, attacker);
const attackerApp = A.services.app!.name;
const platformDb = await containerFacts(tp.config.platformDb.container);
const platformDbNetworks = await Promise.all(Object.keys(platformDb.addresses).map(networkFacts));
// Every bridge this test made: the host holds each one's gateway address.
const bridges: NetworkFacts[] = [...A.networks, ...V.networks, ...platformDbNetworks];

/** The firewall scripts/docker-up keeps; its one open port is the mail relay's. */
async function firewall(): Promise<{ hooked: boolean; rules: string[]; pools: string[]; relayPort?: number }> {
  const input = (await run('iptables', ['-S', 'INPUT'])).stdout.split('\n');
  const rules = (await run('iptables', ['-S', 'BERTH-INPUT']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
  const open = rules.map((r) => /--dport (\d+) -j RETURN/.exec(r)).find(Boolean);
  const pools = rules.map((r) => /-s (\S+) -p tcp -j REJECT/.exec(r)?.[1]).filter((p): p is string => Boolean(p));
  return { hooked: input[1] === '-A INPUT -j BERTH-INPUT', rules, pools, relayPort: open ? Number(open[1]) : undefined };
}

/** A listener that sends one line to whoever connects (a reset by the prober is no error here). */
function greeter(line: string): net.Server {
  return net.createServer((s) => s.on('error', () => {}).end(`${line}\n`));
}

async function listen(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

function within(subnet: string, pool: string): boolean {
  const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const [net, bits] = subnet.split('/') as [string, string];
  const [base, poolBits] = pool.split('/') as [string, string];
  const mask = (b: number) => (b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0);
  return Number(bits) >= Number(poolBits) && ((toInt(net) & mask(Number(poolBits))) >>> 0) === ((toInt(base) & mask(Number(poolBits))) >>> 0);
}

/** One TCP connect from the host itself; true when it connects. */
function hostConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1500 });
    const end = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.on('connect', () => end(true)).on('timeout', () => end(false)).on('error', () => end(false));
  });
}

const wall = await firewall();

// Listeners on the host, on every address, standing where a careless
// operator could put the API and the console (0.0.0.0).
const apiPort = await (async () => {
  await tp.platform.app.listen({ host: '0.0.0.0', port: 0 });
  return (tp.platform.app.server.address() as net.AddressInfo).port;
})();
const consolePort = await listen(greeter('console stand-in'), 0, '0.0.0.0');
// The positive control on the host side: a listener the test opens on the
// relay port at each gateway the attacker sees, greeting with a token the
// probe must read back.
const token = `berth-control-${randomBytes(6).toString('hex')}`;
const attackerGateways = A.networks.map((n) => n.gateway);
for (const gateway of attackerGateways) {
  await until(
    () => listen(greeter(token), wall.relayPort ?? 2525, gateway).then(() => true, () => false),
    30_000, `port ${wall.relayPort} free on ${gateway}`
  );
}

t.test('the host firewall is in place: BERTH-INPUT first in INPUT, rejecting the tenant pool except the mail relay port', async (t) => {
  t.comment(wall.rules.join('\n'));
  t.ok(wall.hooked, 'INPUT jumps to BERTH-INPUT before any other rule (run scripts/docker-up)');
  t.ok(wall.rules.some((r) => /-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN/.test(r)), 'replies to the host\'s own connections pass');
  t.ok(wall.pools.length > 0, `tcp from the tenant pools (${wall.pools.join(', ')}) is rejected`);
  for (const pool of wall.pools) t.ok(wall.rules.includes(`-A BERTH-INPUT -s ${pool} -j REJECT --reject-with icmp-port-unreachable`), `everything else from ${pool} is rejected`);
  t.ok(wall.relayPort, 'one port is left open: the mail relay\'s');
  for (const b of bridges) t.ok(wall.pools.some((pool) => within(b.subnet, pool)), `${b.name} (${b.subnet}) is cut from a pool the firewall covers`);
});

t.test('from the host, every listener answers on every bridge address: only the firewall stands between them and a team', async (t) => {
  for (const b of bridges) {
    for (const [what, port] of [['API', apiPort], ['console stand-in', consolePort], ['nginx', tp.nginx.port]] as const) {
      t.ok(await hostConnects(b.gateway, port), `${what} answers on ${b.gateway}:${port} (${b.name})`);
    }
  }
});

t.test('the attacker reaches its own services, and a host listener on the relay port: the probes can connect', async (t) => {
  const controls = [
    ...ownServiceProbes(A),
    ...attackerGateways.map((g): Probe => ({ kind: 'tcp', label: `control: test listener on the relay port at gateway ${g}`, host: g, port: wall.relayPort ?? 2525 }))
  ];
  const { results } = await probeFrom(attackerApp, controls);
  logProbes(t, `controls from ${attackerApp}`, controls, results);
  controls.forEach((p, i) => t.equal(results[i]!.result, p.kind === 'dns' ? 'resolved' : 'connected', p.label));
  results.slice(-attackerGateways.length).forEach((r, i) => t.equal(r.greeting, token, `the greeting came from the test's own listener at ${attackerGateways[i]}`));
  await resolvesOwnServices(t, attackerApp, A, 'attacker');
});

t.test('the attacker cannot reach the victim\'s app, db or storage, by name or by address', async (t) => {
  await expectIsolated(t, attackerApp, ownServiceProbes(A), victimProbes(V));
});

t.test('the attacker cannot reach the platform database: it is on no network, publishes no port, and its name, former port and socket are not there', async (t) => {
  t.equal(platformDb.networkMode, 'none', 'the platform database is on no network');
  t.same(platformDb.addresses, {}, 'it has no address a container could reach');
  t.same(platformDb.published, [], 'it publishes no port on the host');
  const attacks: Probe[] = [
    { kind: 'dns', label: 'platform db: container name', name: platformDb.name },
    { kind: 'tcp', label: 'platform db: container name, its port', host: platformDb.name, port: 27017 },
    { kind: 'file', label: 'platform db: its socket, at its path in that container', path: '/run/berth-db/platform.sock' },
    // None since it left every network; kept so an address it gains is probed.
    ...Object.entries(platformDb.addresses).map(([network, ip]): Probe => ({ kind: 'tcp', label: `platform db: address on ${network}`, host: ip, port: 27017 })),
    ...bridges.map((b): Probe => ({ kind: 'tcp', label: `platform db: its former published port 27117 at gateway of ${b.name}`, host: b.gateway, port: 27117 }))
  ];
  await expectIsolated(t, attackerApp, ownServiceProbes(A), attacks);
});

t.test('the attacker reaches no host service on any bridge address: API, console, nginx (control paths too), published ports', async (t) => {
  const attacks: Probe[] = [];
  for (const b of bridges) {
    const at = (what: string, port: number, send?: string): Probe => ({ kind: 'tcp', label: `host ${what} at gateway of ${b.name}`, host: b.gateway, port, ...(send ? { send } : {}) });
    attacks.push(
      at('API (test listener on 0.0.0.0)', apiPort, 'GET /healthz HTTP/1.0\r\n\r\n'),
      at('API (configured port)', tp.config.api.port),
      at('console stand-in (0.0.0.0)', consolePort),
      at('console (configured port)', Number(new URL(tp.config.consoleUrl).port || 80)),
      at('nginx', tp.nginx.port, 'GET /__berth/healthz HTTP/1.0\r\nHost: localhost\r\n\r\n'),
      at('nginx, the victim\'s host', tp.nginx.port, `GET /healthz HTTP/1.0\r\nHost: ${victim}.${tp.config.baseDomain}\r\n\r\n`),
      at('victim app\'s published port', (await tp.platform.repo.mustGet(victim)).port)
    );
  }
  await expectIsolated(t, attackerApp, ownServiceProbes(A), attacks);
});

t.test('no Docker socket inside the attacker\'s container', async (t) => {
  const attacks: Probe[] = ['/var/run/docker.sock', '/run/docker.sock'].map((path) => ({ kind: 'file', label: `docker socket ${path}`, path }));
  await expectIsolated(t, attackerApp, ownServiceProbes(A), attacks);
  const mounts = (JSON.parse(await docker('container', 'inspect', attackerApp)) as { Mounts: { Source: string }[] }[])[0]!.Mounts;
  t.notOk(mounts.some((m) => m.Source.includes('docker.sock')), 'nothing of the engine is mounted');
});

t.test('the victim is untouched: serving, its db and storage its own, its data still there', async (t) => {
  t.equal(await healthThroughNginx(tp, victim), 200, '/healthz through nginx');
  await resolvesOwnServices(t, V.services.app!.name, V, 'victim');
  t.same(await data.intact(), { item: true, attachment: true }, 'the item and the attachment the victim wrote are there, unchanged');
  const after = await teamFacts(tp, victim);
  for (const n of after.networks) {
    t.same(n.attached.filter((c) => c.labels['berth.tenant'] !== victim).map((c) => c.name), [], `only the victim's containers on ${n.name}`);
  }
});
