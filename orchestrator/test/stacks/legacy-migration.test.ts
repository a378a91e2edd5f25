// A team made under the old dash names (berth-<slug>-<service>, labelled as
// the code before this change labelled it) holds real data written through its
// app: an item on its board (the database) and an attachment (the object
// store). Its next start with the new code moves it: the data is there under
// the new names, the old containers, networks and volumes are gone. A copy
// that does not match keeps the old volume and starts nothing; an old network
// another team still uses (the old names let "x-edge" join "x"'s) is kept until
// that team has moved too. Real engine and images.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { BerthError } from '../../src/errors.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { migrateLegacy } from '../../src/stacks/legacy-migration.js';
import { stackImages } from '../../src/stacks/images.js';
import { names } from '../../src/names.js';
import { renderStack, type StackSpec } from '../../src/stacks/render.js';
import { generateSecrets } from '../../src/stacks/secrets.js';
import { downStack, upStack, type StackStep } from '../../src/stacks/stack-runner.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';

const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const slug = testSlug('mig');
const platform = `test-${slug}`;
const origin = `http://${slug}.berth.localhost`;
const secrets = generateSecrets(loaded);
const spec = renderStack(loaded, {
  slug,
  platform,
  appVersion: config.defaultAppVersion,
  images: stackImages(config, config.defaultAppVersion),
  secrets,
  publicUrl: origin,
  ownerEmail: 'owner@example.com'
});
const neighbour = `${slug}-edge`;
t.teardown(async () => {
  for (const s of [slug, neighbour]) await downStack(runtime, s, { deleteData: true, platform });
});

/** The same stack under the names and labels the code before this change gave it. */
function legacySpecOf(s: StackSpec): StackSpec {
  const rename = new Map<string, string>([
    [names.internalNetwork(s.tenant), names.legacy.internalNetwork(s.tenant)],
    [names.edgeNetwork(s.tenant), names.legacy.edgeNetwork(s.tenant)],
    ...s.legacy.volumes.map((v): [string, string] => [v.to, v.from])
  ]);
  const old = (name: string) => rename.get(name)!;
  return {
    ...s,
    networks: s.networks.map((n) => ({ ...n, name: old(n.name) })),
    volumes: s.volumes.map((v) => ({ ...v, name: old(v.name) })),
    services: s.services.map((svc) => ({
      ...svc,
      container: {
        ...svc.container,
        name: names.legacy.container(s.tenant, svc.name),
        networks: svc.container.networks.map((n) => ({ ...n, name: old(n.name) })),
        mounts: svc.container.mounts.map((m) => ('volume' in m ? { ...m, volume: old(m.volume) } : m))
      }
    })),
    legacy: { containers: [], networks: [], volumes: [] }
  };
}

const exists = async (kind: 'container' | 'network' | 'volume', name: string) =>
  docker(kind, 'inspect', name).then(() => true, () => false);

async function api(port: number, route: string, init: RequestInit = {}, cookie = '') {
  return fetch(`http://127.0.0.1:${port}${route}`, { ...init, headers: { 'x-forwarded-proto': 'http', origin, ...(cookie ? { cookie } : {}), ...(init.headers ?? {}) } });
}

const attachment = randomBytes(300_000);
let session = { cookie: '', csrf: '' };
let item = '';
let attachmentId = '';

t.test('a team made under the old names holds data written through its app', async (t) => {
  const { publishedPort: port } = await upStack(runtime, legacySpecOf(spec));
  t.ok(await exists('container', `berth-${slug}-db`), 'old container names');
  t.ok(await exists('network', `berth-${slug}-edge`), 'old network names');
  const welcome = await api(port, `/welcome/${secrets.OWNER_SETUP_TOKEN}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ name: 'Owner', password: 'a long test password', confirm: 'a long test password' }).toString()
  });
  const cookie = welcome.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  t.ok(cookie, `signed in (${welcome.status})`);
  const { csrf } = (await (await api(port, '/api/session', {}, cookie)).json()) as { csrf: string };
  session = { cookie, csrf };
  const auth = { 'x-csrf-token': csrf };
  const made = await api(port, '/api/items', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'written before the move' }) }, cookie);
  t.equal(made.status, 201);
  item = ((await made.json()) as { item: { id: string } }).item.id;
  const up = await api(port, `/api/items/${item}/attachments?name=kept.bin`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: attachment }, cookie);
  t.equal(up.status, 201, 'attachment stored in MinIO');
  attachmentId = ((await up.json()) as { attachment: { id: string } }).attachment.id;
});

t.test('a copy that does not match keeps the old volume and starts nothing', async (t) => {
  // A stray file in the new volume: the copy can never equal the old one.
  const target = names.volume(slug, 'db-data');
  await runtime.ensureVolume({ name: target, labels: spec.volumes[0]!.labels });
  const holder = await docker('create', '--network', 'none', '-v', `${target}:/data`, config.images.db);
  await docker('cp', path.join(ROOT_DIR, 'templates/tenant.yaml'), `${holder}:/data/stray`);
  await docker('rm', holder);
  const err = await upStack(runtime, spec).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof BerthError && err.code === 'MIGRATION_FAILED', `refused: ${(err as Error).message}`);
  t.match((err as Error).message, new RegExp(`the copy of volume berth-${slug}-db-data in .* differs from it`));
  t.ok(await exists('volume', `berth-${slug}-db-data`), 'the old volume is kept');
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '', 'the old containers were stopped and removed before the copy, and nothing new runs');
  // Clean the new volume so the next start can copy again.
  await runtime.removeVolume(target);
});

t.test('the next start moves it to the new names with its data', async (t) => {
  const steps: StackStep[] = [];
  const { publishedPort: port } = await upStack(runtime, spec, { onStep: (s) => steps.push(s) });
  const migrated = steps.find((s) => s.step === 'migrate');
  t.ok(migrated, 'a migrate step was reported');
  if (migrated?.step === 'migrate') {
    const r = migrated.report;
    t.same(r.volumes.map((v) => [v.from, v.to]), [[`berth-${slug}-db-data`, names.volume(slug, 'db-data')], [`berth-${slug}-storage-data`, names.volume(slug, 'storage-data')]]);
    t.ok(r.volumes.every((v) => v.entries > 0), `entries copied: ${r.volumes.map((v) => `${v.to} ${v.entries} entries, ${v.bytes} bytes`).join('; ')}`);
    t.same(r.containersRemoved, [], 'the old containers went with the attempt before');
    t.same(r.networksRemoved.sort(), [`berth-${slug}`, `berth-${slug}-edge`]);
  }
  // The same session (stored in the team's database) still works; the item and the file are there.
  const auth = { 'x-csrf-token': session.csrf };
  const board = (await (await api(port, '/api/items', { headers: auth }, session.cookie)).json()) as { items: { id: string; title: string }[] };
  t.same(board.items.map((i) => i.title), ['written before the move'], 'the board item survived');
  const file = await api(port, `/api/items/${item}/attachments/${attachmentId}`, { headers: auth }, session.cookie);
  t.equal(file.status, 200);
  t.ok(Buffer.from(await file.arrayBuffer()).equals(attachment), 'the attachment survived, byte for byte');
  t.equal((await httpGet(`http://127.0.0.1:${port}/healthz`, 10_000)).status, 200);

  for (const s of ['app', 'db', 'storage']) {
    t.notOk(await exists('container', `berth-${slug}-${s}`), `old container berth-${slug}-${s} gone`);
    t.ok(await exists('container', names.container(slug, s)), `${names.container(slug, s)} runs`);
  }
  for (const n of [`berth-${slug}`, `berth-${slug}-edge`]) t.notOk(await exists('network', n), `old network ${n} gone`);
  t.same((await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').sort(), [names.volume(slug, 'db-data'), names.volume(slug, 'storage-data')], 'only the new volumes are left');
  t.same(await docker('ps', '-aq', '--filter', `name=migrate-`, '--filter', `label=berth.tenant=${slug}`), '', 'no helper container is left');
});

t.test('starting again finds nothing to move', async (t) => {
  const steps: string[] = [];
  await upStack(runtime, spec, { onStep: (s) => steps.push(s.step) });
  t.notOk(steps.includes('migrate'));
});

t.test('an old network another team joined is kept until that team has moved, then removed', async (t) => {
  // What the old names did: team "<slug>-edge"'s internal network was the
  // edge network of team "<slug>", which it joined.
  const shared = names.legacy.edgeNetwork(slug);
  await docker('network', 'create', '--label', 'berth.managed=true', '--label', `berth.platform=${platform}`, '--label', `berth.tenant=${slug}`, shared);
  const other = names.legacy.container(neighbour, 'db');
  await docker('run', '-d', '--name', other, '--network', shared, '--read-only', '--cap-drop', 'ALL',
    '--label', 'berth.managed=true', '--label', `berth.platform=${platform}`, '--label', `berth.tenant=${neighbour}`, '--label', 'berth.service=db', config.images.db);

  const steps: StackStep[] = [];
  await upStack(runtime, spec, { onStep: (s) => steps.push(s) });
  const first = steps.find((s) => s.step === 'migrate');
  t.same(first?.step === 'migrate' && first.report.networksKept, [shared], 'kept: the other team still uses it');
  t.equal(await docker('inspect', other, '--format', '{{.State.Running}}'), 'true', 'the other team\'s container is untouched');

  // The neighbour's own move removes its containers (labels prove they are its own), not the network labelled for <slug>.
  const neighbourSpec = renderStack(loaded, { slug: neighbour, platform, appVersion: config.defaultAppVersion, images: stackImages(config, config.defaultAppVersion), secrets: generateSecrets(loaded) });
  const moved = await migrateLegacy(runtime, neighbourSpec);
  t.same(moved.containersRemoved, [other]);
  t.same(moved.networksRemoved, [], 'not its network to remove');
  t.ok(await exists('network', shared));

  const again: StackStep[] = [];
  await upStack(runtime, spec, { onStep: (s) => again.push(s) });
  const second = again.find((s) => s.step === 'migrate');
  t.same(second?.step === 'migrate' && second.report.networksRemoved, [shared], 'removed on the next start');
  t.notOk(await exists('network', shared));
});
