// A name is a claim, a label is proof: against the real engine, an object that
// already carries a tenant's new-scheme name but another tenant's or
// platform's labels (made here with the docker CLI, as anyone with access to
// the engine could) makes the stack-up fail with 409 NAME_TAKEN naming it;
// nothing is joined or started, and the other owner's object is untouched.
import t from 'tap';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { ensurePlatformDb } from '../../src/platform/platform-db.js';
import { stackImages } from '../../src/stacks/images.js';
import { names } from '../../src/names.js';
import { renderStack } from '../../src/stacks/render.js';
import { generateSecrets } from '../../src/stacks/secrets.js';
import { downStack, upStack } from '../../src/stacks/stack-runner.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';
import { refusal } from '../helpers/refusal.js';

const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const platform = `test-${testSlug('taken')}`;

function specFor(slug: string) {
  return renderStack(loaded, { slug, platform, appVersion: config.defaultAppVersion, images: stackImages(config, config.defaultAppVersion), secrets: generateSecrets(loaded) });
}

/** Labels of another owner: another tenant of this platform, or a tenant of another platform. */
const foreign = (tenant: string, owner = platform) => ['--label', 'berth.managed=true', '--label', `berth.platform=${owner}`, '--label', `berth.tenant=${tenant}`];

/** Whatever the stack-up made for this slug, by label. */
async function madeFor(slug: string) {
  const filter = ['--filter', `label=berth.tenant=${slug}`, '--filter', `label=berth.platform=${platform}`];
  return {
    containers: await docker('ps', '-aq', ...filter),
    networks: (await docker('network', 'ls', '--format', '{{.Name}}', ...filter)).split('\n').filter(Boolean).sort(),
    volumes: (await docker('volume', 'ls', '-q', ...filter)).split('\n').filter(Boolean).sort()
  };
}


t.test('a network of the new name labelled for another tenant: NAME_TAKEN, nothing joined or started', async (t) => {
  const slug = testSlug('tkn');
  const net = names.internalNetwork(slug);
  await docker('network', 'create', '--internal', ...foreign('someone-else'), net);
  t.teardown(async () => {
    await downStack(runtime, slug, { deleteData: true, platform });
    await docker('network', 'rm', net);
  });
  const err = await refusal(() => upStack(runtime, specFor(slug)));
  t.equal(err.code, 'NAME_TAKEN');
  t.equal(err.status, 409);
  t.match(err.message, new RegExp(`network ${net.replace(/\./g, '\\.')} already exists and belongs to another owner \\(berth\\.platform=${platform}, berth\\.tenant=someone-else\\)`));
  t.match(err.details, { kind: 'network', name: net, owner: { 'berth.tenant': 'someone-else' } });
  t.same(await madeFor(slug), { containers: '', networks: [], volumes: [] }, 'nothing made for the tenant');
  t.equal(await docker('network', 'inspect', net, '--format', '{{len .Containers}} {{index .Labels "berth.tenant"}}'), '0 someone-else', 'the other owner\'s network: no one joined, labels unchanged');
});

t.test('a volume of the new name labelled for another platform: NAME_TAKEN, nothing started, the volume untouched', async (t) => {
  const slug = testSlug('tkv');
  const volume = names.volume(slug, 'db-data');
  await docker('volume', 'create', ...foreign(slug, `${platform}-other`), volume);
  t.teardown(async () => {
    await downStack(runtime, slug, { deleteData: true, platform });
    await docker('volume', 'rm', volume);
  });
  const err = await refusal(() => upStack(runtime, specFor(slug)));
  t.equal(err.code, 'NAME_TAKEN');
  t.match(err.message, new RegExp(`volume ${volume.replace(/\./g, '\\.')} already exists and belongs to another owner \\(berth\\.platform=${platform}-other, berth\\.tenant=${slug}\\)`), 'the same slug on another platform is another owner');
  t.equal((await madeFor(slug)).containers, '', 'no container made, none started');
  t.equal(await docker('ps', '-aq', '--filter', `volume=${volume}`), '', 'no container mounts the other owner\'s volume');
  t.equal(await docker('volume', 'inspect', volume, '--format', '{{index .Labels "berth.platform"}}'), `${platform}-other`);
});

t.test('a container of the new name labelled for another tenant: NAME_TAKEN; it is neither started nor replaced', async (t) => {
  const slug = testSlug('tkc');
  const name = names.container(slug, 'db');
  const id = await docker('create', '--name', name, '--network', 'none', ...foreign('someone-else'), config.images.db);
  t.teardown(async () => {
    await downStack(runtime, slug, { deleteData: true, platform });
    await docker('rm', '-f', '-v', id);
  });
  const err = await refusal(() => upStack(runtime, specFor(slug)));
  t.equal(err.code, 'NAME_TAKEN');
  t.match(err.message, new RegExp(`container ${name.replace(/\./g, '\\.')} already exists and belongs to another owner`));
  t.equal(await docker('inspect', name, '--format', '{{.Id}} {{.State.Status}}'), `${id} created`, 'the same container, never started');
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '', 'no container of the tenant was made');
});

t.test('the runtime port refuses each kind directly, and joins nothing', async (t) => {
  const slug = testSlug('tkr');
  const spec = specFor(slug);
  const db = spec.services.find((s) => s.name === 'db')!.container;
  const labels = spec.networks[0]!.labels;
  t.teardown(() => downStack(runtime, slug, { deleteData: true, platform }));
  // Ours: made, then reused without complaint.
  await runtime.ensureNetwork(spec.networks[0]!);
  await runtime.ensureNetwork(spec.networks[0]!);
  await runtime.ensureVolume(spec.volumes[0]!);
  await runtime.ensureVolume(spec.volumes[0]!);
  const other = { ...labels, 'berth.tenant': 'someone-else' };
  t.match(await refusal(() => runtime.ensureNetwork({ ...spec.networks[0]!, labels: other })), { code: 'NAME_TAKEN' }, 'network');
  t.match(await refusal(() => runtime.ensureVolume({ ...spec.volumes[0]!, labels: other })), { code: 'NAME_TAKEN' }, 'volume');
  // A container whose spec names another owner may not join this tenant's network or mount its volume.
  const err = await refusal(() => runtime.createContainer({ ...db, labels: { ...db.labels, 'berth.tenant': 'someone-else' } }));
  t.equal(err.code, 'NAME_TAKEN');
  t.match(err.message, /network .* belongs to another owner/);
  t.equal(await docker('network', 'inspect', spec.networks[0]!.name, '--format', '{{len .Containers}}'), '0', 'nothing joined');
  t.equal(await runtime.inspectContainer(db.name), null, 'nothing made');
  // A platform role is part of the owner, too.
  t.match(await refusal(() => runtime.ensureVolume({ ...spec.volumes[0]!, labels: { ...labels, 'berth.role': 'platform-db' } })), { code: 'NAME_TAKEN' });
});

t.test("the caller's own read, handed on, is checked the same: another owner's labels, or a name taken since it read none", async (t) => {
  const slug = testSlug('tkf');
  const spec = specFor(slug);
  const labels = spec.networks[0]!.labels;
  const other = { ...labels, 'berth.tenant': 'someone-else' };
  t.teardown(() => downStack(runtime, slug, { deleteData: true, platform }));
  // Read as another owner's: refused without a call.
  t.match(await refusal(() => runtime.ensureNetwork(spec.networks[0]!, other)), { code: 'NAME_TAKEN' }, 'network read as another\'s');
  t.match(await refusal(() => runtime.ensureVolume(spec.volumes[0]!, other)), { code: 'NAME_TAKEN' }, 'volume read as another\'s');
  t.equal(await runtime.labelsOf('network', spec.networks[0]!.name), null, 'no network made');
  t.equal(await runtime.labelsOf('volume', spec.volumes[0]!.name), null, 'no volume made');
  // Read as absent, then taken by another owner before the create: the create finds it and refuses.
  await docker('network', 'create', ...Object.entries(other).flatMap(([k, v]) => ['--label', `${k}=${v}`]), spec.networks[0]!.name);
  await docker('volume', 'create', ...Object.entries(other).flatMap(([k, v]) => ['--label', `${k}=${v}`]), spec.volumes[0]!.name);
  t.teardown(async () => {
    await docker('network', 'rm', spec.networks[0]!.name).catch(() => '');
    await docker('volume', 'rm', spec.volumes[0]!.name).catch(() => '');
  });
  t.match(await refusal(() => runtime.ensureNetwork(spec.networks[0]!, null)), { code: 'NAME_TAKEN' }, 'network taken since the read');
  t.match(await refusal(() => runtime.ensureVolume(spec.volumes[0]!, null)), { code: 'NAME_TAKEN' }, 'volume taken since the read');
  t.same(await runtime.labelsOf('network', spec.networks[0]!.name), other, "the network is still the other owner's");
  t.same(await runtime.labelsOf('volume', spec.volumes[0]!.name), other, "the volume is still the other owner's");
});

t.test('the platform database is not started under a name a tenant\'s container holds', async (t) => {
  const name = `berth-test-db-${testSlug('tkp')}`;
  const id = await docker('create', '--name', name, '--network', 'none', ...foreign('someone-else'), config.images.db);
  t.teardown(() => docker('rm', '-f', '-v', id));
  const err = await refusal(() => ensurePlatformDb(runtime, { ...config, mongoUrl: undefined, platformDb: { container: name } }, 5000));
  t.equal(err.code, 'NAME_TAKEN');
  t.match(err.message, new RegExp(`container ${name} already exists and belongs to another owner \\(berth\\.platform=${platform}, berth\\.tenant=someone-else\\)`));
  t.equal(await docker('inspect', name, '--format', '{{.State.Status}}'), 'created', 'not started');
});
