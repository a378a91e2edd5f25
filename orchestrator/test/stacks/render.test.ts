import t from 'tap';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { parseMemory, renderStack, type RenderInput } from '../../src/stacks/render.js';
import { LABEL } from '../../src/runtime/labels.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';

const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const input = {
  slug: 'acme',
  appVersion: '1.2.3',
  images: { app: 'berth/tenant-app:1.2.3', db: 'berth/ferretdb:x', storage: 'berth/minio:y' },
  secrets: { STORAGE_KEY: 's3cr3t-value', OWNER_SETUP_TOKEN: 'owner-setup-token-0123456789' },
  publicUrl: 'http://acme.berth.test:8080',
  ownerEmail: 'owner@acme.test',
  mail: { smtpUrl: 'smtp://acme:relay-secret@mail-relay:2525', from: 'Acme <team@acme.test>', extraHosts: ['mail-relay:host-gateway'] }
};

t.test('renders names, order, labels, limits and the published route', async (t) => {
  const spec = renderStack(loaded, input);
  t.equal(spec.plan, 'starter', 'default plan');
  t.same(spec.services.map((s) => s.name), ['db', 'storage', 'app'], 'app after what it depends on');
  t.same(spec.networks.map((n) => [n.name, n.internal ?? false]), [['berth.acme.internal', true], ['berth.acme.edge', false]]);
  t.same(spec.volumes.map((v) => v.name), ['berth.acme.db-data', 'berth.acme.storage-data']);
  const app = spec.services.find((s) => s.name === 'app')!;
  t.equal(app.container.name, 'berth.acme.app');
  t.equal(app.container.image, 'berth/tenant-app:1.2.3');
  t.same(app.container.publish, { containerPort: 3000, hostPort: 0 });
  const { [LABEL.configHash]: hash, ...labels } = app.container.labels;
  t.match(hash, /^[0-9a-f]{16}$/, 'config hash label');
  t.same(labels, {
    [LABEL.managed]: 'true',
    [LABEL.platform]: 'default',
    [LABEL.tenant]: 'acme',
    [LABEL.template]: 'tenant',
    [LABEL.service]: 'app',
    [LABEL.appVersion]: '1.2.3',
    [LABEL.slot]: 'a'
  });
  t.equal(app.container.env.MONGO_URL, 'mongodb://db:27017/acme');
  t.equal(app.container.env.MINIO_SECRET_KEY, 's3cr3t-value');
  t.equal(app.container.env.MINIO_BUCKET, 'acme');
  t.equal(app.container.env.ORIGIN, 'http://acme.berth.test:8080', 'the app knows its public origin');
  t.equal(app.container.env.OWNER_EMAIL, 'owner@acme.test');
  t.equal(app.container.env.SMTP_URL, 'smtp://acme:relay-secret@mail-relay:2525', 'the team\'s relay account reaches the app');
  t.equal(app.container.env.MAIL_FROM, 'Acme <team@acme.test>');
  t.same(app.container.extraHosts, ['mail-relay:host-gateway'], 'and the relay\'s name resolves in it');
  const noMail = renderStack(loaded, { ...input, mail: undefined }).services.find((s) => s.name === 'app')!.container;
  t.equal(noMail.env.SMTP_URL, '', 'empty when mail is not configured');
  t.equal(noMail.extraHosts, undefined, 'and no relay host then');
  t.equal(app.container.env.OWNER_SETUP_TOKEN, 'owner-setup-token-0123456789');
  t.same(app.container.limits, { memoryBytes: 256 * 1024 ** 2, nanoCpus: 5e8, pids: 256 });
  t.same(app.container.relax, {}, 'nothing beyond the runtime\'s defaults');
  t.same(app.container.tmpfs, [{ target: '/tmp', sizeBytes: 16 * 1024 ** 2 }]);
  t.equal(app.container.user, undefined, 'the image\'s own (non-root) user');
  t.same(app.dependsOn, [], 'the default template starts its services together: the app waits for db and storage itself');
  const db = spec.services.find((s) => s.name === 'db')!;
  t.equal(db.container.publish, undefined, 'data services are never published');
  t.same(db.container.mounts, [{ volume: 'berth.acme.db-data', target: '/data' }]);
  t.same(db.container.networks, [{ name: 'berth.acme.internal', aliases: ['db'] }], 'data services only on the internal network');
  t.equal(db.container.extraHosts, undefined, 'services not given the relay URL get no relay host');
  t.same(app.container.networks.map((n) => n.name), ['berth.acme.internal', 'berth.acme.edge'], 'the app also on the edge network');
});

t.test('the names a team had under the dash scheme, to move it', async (t) => {
  const { legacy } = renderStack(loaded, input);
  t.same(legacy.networks, ['berth-acme', 'berth-acme-edge']);
  t.same(legacy.containers, ['berth-acme-db', 'berth-acme-db-b', 'berth-acme-storage', 'berth-acme-storage-b', 'berth-acme-app', 'berth-acme-app-b']);
  t.same(legacy.volumes, [
    { from: 'berth-acme-db-data', to: 'berth.acme.db-data', volume: 'db-data', image: 'berth/ferretdb:x', path: '/data' },
    { from: 'berth-acme-storage-data', to: 'berth.acme.storage-data', volume: 'storage-data', image: 'berth/minio:y', path: '/data' }
  ], 'each copied through the image that mounts it, at its path');
});

t.test('the plan\'s storage quota reaches the app and the storage commands, in bytes', async (t) => {
  const starter = renderStack(loaded, input);
  t.equal(starter.services.find((s) => s.name === 'app')!.container.env.STORAGE_QUOTA_BYTES, String(1024 ** 3), 'starter: 1g');
  t.same(starter.storage, {
    service: 'storage',
    container: 'berth.acme.storage',
    quotaBytes: 1024 ** 3,
    usage: ['berth-probe', 'du', '/data', '.minio.sys'],
    limit: ['berth-probe', 'minio-quota', 'http://127.0.0.1:9000', 'acme', String(2 * 1024 ** 3)]
  });
  const team = renderStack(loaded, { ...input, plan: 'team' });
  t.equal(team.storage?.quotaBytes, 10 * 1024 ** 3, 'team: 10g');
  t.equal(team.services.find((s) => s.name === 'app')!.container.env.STORAGE_QUOTA_BYTES, String(10 * 1024 ** 3));
});

t.test('the config hash changes with what the container is made from, and only then', async (t) => {
  const hash = (i: RenderInput) => renderStack(loaded, i).services.find((s) => s.name === 'storage')!.container.labels[LABEL.configHash];
  t.equal(hash(input), hash({ ...input }), 'same input, same hash');
  t.not(hash(input), hash({ ...input, secrets: { ...input.secrets, STORAGE_KEY: 'another' } }), 'a new secret recreates');
  t.not(hash(input), hash({ ...input, images: { ...input.images, storage: 'berth/minio:z' } }), 'a new image recreates');
  t.not(hash(input), hash({ ...input, plan: 'team' }), 'new limits recreate');
});

t.test('slot b: the routed service beside slot a, the same in all but name, image, version and port', async (t) => {
  const a = renderStack(loaded, { ...input, publishPort: 20001 });
  const b = renderStack(loaded, { ...input, appVersion: '1.3.0', images: { ...input.images, app: 'berth/tenant-app:1.3.0' }, slot: 'b', publishPort: 20002 });
  const appA = a.services.find((s) => s.name === 'app')!.container;
  const appB = b.services.find((s) => s.name === 'app')!.container;
  t.equal(appB.name, 'berth.acme.app.b');
  t.equal(appB.labels[LABEL.slot], 'b');
  t.equal(appB.image, 'berth/tenant-app:1.3.0');
  t.same(appB.publish, { containerPort: 3000, hostPort: 20002 });
  t.same({ ...appB.env, APP_VERSION: '' }, { ...appA.env, APP_VERSION: '' }, 'same environment and secrets but the version');
  t.same([appB.mounts, appB.networks, appB.limits, appB.relax, appB.tmpfs], [appA.mounts, appA.networks, appA.limits, appA.relax, appA.tmpfs]);
  const names = (spec: typeof a) => spec.services.filter((s) => s.name !== 'app').map((s) => [s.container.name, s.container.labels[LABEL.configHash]]);
  t.same(names(b), names(a), 'the data services are untouched: same names, same config');
});

t.test('another plan gives its own limits', async (t) => {
  const spec = renderStack(loaded, { ...input, plan: 'team', publishPort: 40123 });
  const storage = spec.services.find((s) => s.name === 'storage')!;
  t.same(storage.container.limits, { memoryBytes: 1024 ** 3, nanoCpus: 1e9, pids: 1024 });
  t.same(spec.services.find((s) => s.name === 'app')!.container.publish, { containerPort: 3000, hostPort: 40123 });
});

t.test('bad input is refused with a code', async (t) => {
  t.throws(() => renderStack(loaded, { ...input, plan: 'gold' }), { code: 'PLAN_UNKNOWN', message: /plans: starter, team/ });
  t.throws(() => renderStack(loaded, { ...input, slug: 'Acme!' }), { code: 'SLUG_INVALID' });
  t.throws(() => renderStack(loaded, { ...input, slug: 'ab' }), { code: 'SLUG_INVALID' });
  t.throws(() => renderStack(loaded, { ...input, slug: 'acme-' }), { code: 'SLUG_INVALID' });
  t.throws(() => renderStack(loaded, { ...input, secrets: {} }), { code: 'TEMPLATE_INVALID', message: /secret STORAGE_KEY/ });
});

t.test('memory sizes', async (t) => {
  t.equal(parseMemory('512'), 512);
  t.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  t.equal(parseMemory('64K'), 65536);
  t.throws(() => parseMemory('lots'));
});
