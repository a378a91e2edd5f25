// Teams whose slugs try to take another team's or the platform's Docker
// objects: suffixes (<victim>-edge, -db, -app), a prefix (<p> whose edge
// network was <p>-edge's private one under the dash names), a squatter that
// comes first, and the names of the platform database's container, volume
// and network. Whatever the naming scheme, each attacker is either made apart
// from everything it aimed at or refused with 409 NAME_TAKEN; the victim
// keeps its containers, networks, volumes, data and its own "db" and
// "storage"; the platform keeps its database, which is on no network and
// publishes no port (it answers only on a Unix socket under BERTH_HOME).
//
// Under the dash names (berth-<slug>-<kind>) the -edge suffix, the prefix,
// the squatter and both platform cases collided; under the dot names
// (berth.<slug>.<kind>, names.ts) every case must pass. The platform
// container case runs last because it would take the test platform's
// database away if it succeeded.
import t, { type Test } from 'tap';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, ROOT_DIR } from '../../src/config/config.js';
import { platformDbPaths } from '../../src/platform/platform-db.js';
import { names } from '../../src/names.js';
import { renderStack } from '../../src/stacks/render.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';
import {
  containerFacts, createTeam, healthThroughNginx, inspectContainer, mustCreate, networkFacts, removeTeam, teamFacts, volumeUsers, writeVictimData,
  type ContainerFacts, type Created, type TeamFacts, type VictimData
} from './fixtures.js';
import type { Probe } from './probes.js';
import { expectIsolated, ownServiceProbes, resolvesOwnServices, victimProbes } from './targets.js';

// ---- the real engine: set up before any subtest is declared ---------------
// tap ends the root test on its own once it is idle and a teardown is
// registered (test-log.ts registers one as the platform starts): a subtest
// declared above these awaits, finishing while they run, would end the file
// with every later t.test refused ("cannot create subtest after parent test
// ends") and the platform never closed.

// The platform database is named the way the default one is (berth-platform-db
// is berth-<slug>-db for the slug "platform"), with a unique slug of this run
// in place of "platform", so its container and volume, and the network it
// had before it left every network, are what teams <pf> and <pf>-db-net
// would render under the dash names.
const pf = testSlug('pf');
const tp = await startTestPlatform('col', { platformDb: { container: `berth-${pf}-db` } });
t.teardown(() => tp.close());

const platformDbBefore = await containerFacts(tp.config.platformDb.container);

/** The victim's name ends in -edge, so one victim serves both the suffix and the prefix attackers. */
const stem = testSlug('v');
const victim = `${stem}-edge`;
await mustCreate(tp, victim, { ownerEmail: 'owner@victim.test' });
const victimData = await writeVictimData(tp, victim);
const victimBefore = await teamFacts(tp, victim);

// ---- pure: the names themselves ------------------------------------------

t.test('no two slugs, and no slug and the platform database, render a Docker object of the same name', async (t) => {
  const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
  const base = 'acme';
  const slugs = [base, `${base}-edge`, `${base}-edge-edge`, `${base}-db`, `${base}-app`, `${base}-app-b`, `${base}-storage`, `${base}-b`,
    `${base}-db-data`, `${base}-storage-data`, 'platform', 'platform-db', 'platform-db-net', 'platform-db-data'];
  const platformDb = loadConfig().platformDb.container;
  // Docker keeps one namespace per kind: a network may share a container's name.
  const ofPlatform = names.platformDb(platformDb);
  const owners = new Map<string, string>([[`network ${ofPlatform.network}`, 'the platform'], [`container ${ofPlatform.container}`, 'the platform'], [`volume ${ofPlatform.volume}`, 'the platform']]);
  const clashes: string[] = [];
  for (const slug of slugs) {
    for (const slot of ['a', 'b'] as const) {
      const spec = renderStack(loaded, { slug, slot, appVersion: '0.0.0', images: { app: 'a', db: 'd', storage: 's' }, secrets: { STORAGE_KEY: 'k', OWNER_SETUP_TOKEN: 't' } });
      const objects = [
        ...spec.networks.map((n) => `network ${n.name}`),
        ...spec.services.map((s) => `container ${s.container.name}`),
        ...spec.volumes.map((v) => `volume ${v.name}`)
      ];
      for (const object of objects) {
        const owner = owners.get(object);
        if (owner !== undefined && owner !== slug) clashes.push(`${object}: ${owner} and ${slug}`);
        owners.set(object, slug);
      }
    }
  }
  t.same(clashes, [], 'every object name has one owner');
});

/** The victim's containers (same ids, running), networks, volumes, answers and data are as they were. */
async function victimIntact(t: Test, before: TeamFacts, data?: VictimData): Promise<void> {
  const now = await teamFacts(tp, before.slug);
  for (const [service, c] of Object.entries(before.services)) {
    const still = await inspectContainer(c.id).catch(() => undefined);
    t.ok(still, `${before.slug}'s ${service} container is the same one`);
    t.equal(now.services[service]?.id, c.id, `${before.slug}'s ${service} not replaced`);
  }
  t.same(now.networks.map((n) => n.name).sort(), before.networks.map((n) => n.name).sort(), `${before.slug}'s networks are the same`);
  for (const n of now.networks) {
    t.same(n.attached.filter((c) => c.labels['berth.tenant'] !== before.slug).map((c) => c.name), [], `only ${before.slug}'s containers on ${n.name}`);
  }
  for (const v of now.volumes) {
    t.same((await volumeUsers(v)).filter((l) => l['berth.tenant'] !== before.slug), [], `only ${before.slug}'s containers mount ${v}`);
  }
  await resolvesOwnServices(t, now.services.app!.name, now, before.slug);
  t.equal(await healthThroughNginx(tp, before.slug), 200, `${before.slug} serves /healthz through nginx`);
  if (data) t.same(await data.intact(), { item: true, attachment: true }, `${before.slug}'s item and attachment are unchanged`);
}

/**
 * The platform database: the same container, running, on no network and
 * publishing no port, its socket still there, the only container mounting
 * its data; no object of the name its network had under older Berth exists;
 * the registry on it still answers.
 */
async function platformIntact(t: Test, before: ContainerFacts): Promise<void> {
  const { container, network } = names.platformDb(tp.config.platformDb.container);
  const now = await inspectContainer(container).catch(() => undefined);
  t.equal(now?.Id, before.id, 'the platform database container is the same one');
  t.ok(now?.State.Running, 'the platform database is running');
  const facts = await containerFacts(container);
  t.equal(facts.networkMode, 'none', 'the platform database is on no network');
  t.same(facts.addresses, {}, 'the platform database has no address a container could reach');
  t.same(facts.published, [], 'the platform database publishes no port');
  t.ok(await stat(platformDbPaths(tp.config.home).socket).then((s) => s.isSocket(), () => false), 'its socket is still under the platform\'s home');
  t.equal(await networkFacts(network).then((n) => n.name, () => undefined), undefined, `no network named ${network} (the platform database's under older Berth) exists`);
  for (const m of (now?.Mounts ?? []).filter((m) => m.Type === 'volume')) {
    t.same((await volumeUsers(m.Name!)).filter((l) => l['berth.role'] !== 'platform-db'), [], `only the platform database mounts ${m.Name}`);
  }
  const res = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/tenants', headers: { authorization: `Bearer ${tp.token}` } });
  t.equal(res.statusCode, 200, 'the registry still answers');
}

/**
 * Creates the attacker, but stops waiting once the platform database
 * container is gone or replaced: the registry then cannot record the end of
 * the operation, and the create would be waited on until its deadline.
 */
async function createWatchingPlatformDb(attacker: string): Promise<Created> {
  let finished = false;
  const creating = createTeam(tp, attacker).finally(() => { finished = true; });
  const changed = until(async () => finished || (await inspectContainer(platformDbBefore.id).catch(() => undefined)) === undefined, 300_000, 'the create to end', 250);
  return Promise.race([creating, changed.then(() => (finished ? creating : { status: 0, detail: 'the platform database container was removed while the attacker was created' }))]);
}

/** The attacker is made apart from everything (or refused as NAME_TAKEN); if made, it reaches nothing of the target's. */
async function attack(t: Test, attacker: string, target: { team?: TeamFacts; platform?: boolean }): Promise<void> {
  // Gone after its case, so each case meets the victim as the last one left it.
  t.teardown(() => removeTeam(tp, attacker));
  const made = target.platform ? await createWatchingPlatformDb(attacker) : await createTeam(tp, attacker);
  t.comment(`create ${attacker}: ${JSON.stringify(made)}`);
  const refused = made.status === 409 && made.code === 'NAME_TAKEN';
  t.ok(made.outcome === 'operation.succeeded' || refused, `${attacker} is created apart, or refused with 409 NAME_TAKEN (got ${made.status} ${made.code ?? made.outcome})`);
  if (made.outcome === 'operation.succeeded') {
    const A = await teamFacts(tp, attacker);
    for (const n of A.networks) {
      t.same(n.attached.filter((c) => c.labels['berth.tenant'] !== attacker).map((c) => c.name), [], `only ${attacker}'s containers on its network ${n.name}`);
    }
    await resolvesOwnServices(t, A.services.app!.name, A, attacker);
    const attacks: Probe[] = target.team ? victimProbes(await teamFacts(tp, target.team.slug)) : [];
    if (target.platform) {
      const platformDb = names.platformDb(platformDbBefore.name);
      const mine = [...A.networks.map((n) => `network ${n.name}`), ...Object.values(A.services).map((c) => `container ${c.name}`), ...A.volumes.map((v) => `volume ${v}`)];
      const its = [`network ${platformDb.network}`, `container ${platformDb.container}`, `volume ${platformDb.volume}`];
      t.same(mine.filter((o) => its.includes(o)), [], `${attacker} has no object named as the platform database's (${its.join(', ')})`);
      attacks.push(
        { kind: 'dns', label: 'platform db: container name', name: platformDbBefore.name },
        { kind: 'tcp', label: 'platform db: container name, its port', host: platformDbBefore.name, port: 27017 },
        // The platform database's socket, at the path it has inside that container.
        { kind: 'file', label: 'platform db: its socket', path: '/run/berth-db/platform.sock' }
      );
      // None since the platform database left every network; kept so an address it gains is probed.
      for (const [network, ip] of Object.entries(platformDbBefore.addresses)) attacks.push({ kind: 'tcp', label: `platform db: address on ${network}`, host: ip, port: 27017 });
    }
    await expectIsolated(t, A.services.app!.name, ownServiceProbes(A), attacks);
  }
}

t.test('the reserved slug "platform" is refused before anything is made', async (t) => {
  const made = await createTeam(tp, 'platform');
  // The route's schema refuses reserved names before the service sees them.
  t.match(made, { status: 400, code: 'VALIDATION_FAILED', detail: /^body\.slug .*reserved/ });
  t.equal(await docker('ps', '-aq', '--filter', 'label=berth.tenant=platform', '--filter', `label=berth.platform=${tp.config.platformId}`), '', 'no container made');
});

for (const [attacker, why] of [
  [`${victim}-edge`, 'suffix -edge: under berth-<slug>-<kind> its private network is the victim\'s edge network'],
  [`${victim}-db`, 'suffix -db'],
  [`${victim}-app`, 'suffix -app'],
  [stem, 'prefix: under berth-<slug>-<kind> its edge network is the victim\'s private network']
] as const) {
  t.test(`attacker ${why}`, async (t) => {
    await attack(t, attacker, { team: victimBefore });
    await victimIntact(t, victimBefore, victimData);
  });
}

t.test('a squatter that comes first: <w>-edge exists, then team <w> is made on its own objects or refused', async (t) => {
  const w = testSlug('w');
  const squatter = `${w}-edge`;
  t.teardown(async () => {
    await removeTeam(tp, w);
    await removeTeam(tp, squatter);
  });
  await mustCreate(tp, squatter);
  const squatterBefore = await teamFacts(tp, squatter);
  const made = await createTeam(tp, w);
  t.comment(`create ${w}: ${JSON.stringify(made)}`);
  t.ok(made.outcome === 'operation.succeeded' || (made.status === 409 && made.code === 'NAME_TAKEN'), `${w} is created apart, or refused with 409 NAME_TAKEN`);
  if (made.outcome === 'operation.succeeded') {
    const W = await teamFacts(tp, w);
    for (const n of W.networks) t.equal(n.labels['berth.tenant'], w, `${w}'s network ${n.name} is labelled for ${w}`);
    await resolvesOwnServices(t, W.services.app!.name, W, w);
    await expectIsolated(t, W.services.app!.name, ownServiceProbes(W), victimProbes(squatterBefore));
  }
  await victimIntact(t, squatterBefore);
});

t.test('attacker <pf>-db-net: under the old scheme its private network is the platform database\'s', async (t) => {
  await attack(t, `${pf}-db-net`, { platform: true });
  await platformIntact(t, platformDbBefore);
  await victimIntact(t, victimBefore, victimData);
});

t.test('attacker <pf>: under the old scheme its db container and volume are the platform database\'s', async (t) => {
  await attack(t, pf, { platform: true });
  await platformIntact(t, platformDbBefore);
  await victimIntact(t, victimBefore, victimData);
});
