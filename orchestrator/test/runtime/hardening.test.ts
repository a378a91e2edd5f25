// The runtime, not the template, enforces the hardening: every container gets
// all capabilities dropped, no-new-privileges, its pids limit and a read-only
// root filesystem whatever its spec says, and is refused when it would run as
// root; a plan's allowance is the only way past one of them. Real engine.
import t from 'tap';
import type { ContainerSpec } from '../../src/runtime/types.js';
import { names } from '../../src/names.js';
import { downStack } from '../../src/stacks/stack-runner.js';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';
import { refusal } from '../helpers/refusal.js';

const slug = testSlug('hard');
const platform = `test-${slug}`;
const labels = { 'berth.managed': 'true', 'berth.platform': platform, 'berth.tenant': slug };
await runtime.ensureNetwork({ name: names.internalNetwork(slug), labels, internal: true });
t.teardown(() => downStack(runtime, slug, { deleteData: true, platform }));

const spec = (service: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: names.container(slug, service),
  image: config.images.db,
  env: {},
  labels: { ...labels, 'berth.service': service },
  networks: [{ name: names.internalNetwork(slug), aliases: [service] }],
  mounts: [],
  limits: { memoryBytes: 64 * 1024 ** 2, nanoCpus: 2e8, pids: 48 },
  ...extra
});


interface Inspected {
  Config: { User: string };
  HostConfig: { CapDrop: string[]; CapAdd: string[] | null; SecurityOpt: string[]; PidsLimit: number; ReadonlyRootfs: boolean; Privileged: boolean };
}
const inspect = async (name: string) => JSON.parse(await docker('inspect', name, '--format', '{{json .}}')) as Inspected;

t.test('an image that runs as root is refused unless the plan allows root', async (t) => {
  // berth/node-base has no USER: Docker would run it as root.
  const rootImage = config.images.nodeBase;
  t.equal(await runtime.imageUser(rootImage), '', `${rootImage} has no user`);
  const err = await refusal(() => runtime.createContainer(spec('rooted', { image: rootImage, cmd: ['node', '-v'] })));
  t.equal(err.code, 'ROOT_REFUSED');
  t.equal(err.status, 409);
  t.match(err.message, new RegExp(`container ${names.container(slug, 'rooted').replace(/\./g, '\\.')} would run as root \\(user "root" of image ${rootImage}\\); run it as another user, or let its plan allow root_user`));
  t.equal(await runtime.inspectContainer(names.container(slug, 'rooted')), null, 'nothing made');

  const byTemplate = await refusal(() => runtime.createContainer(spec('zero', { user: '0:65534' })));
  t.match(byTemplate, { code: 'ROOT_REFUSED', message: /user "0:65534" of its template/ }, 'a root user given by the spec, over a non-root image');

  await runtime.createContainer(spec('allowed', { image: rootImage, cmd: ['node', '-v'], relax: { rootUser: true } }));
  t.equal((await inspect(names.container(slug, 'allowed'))).Config.User, '', 'made when the plan allows root_user');
});

t.test('the defaults hold whatever the spec lacks; an allowance adds only what it names', async (t) => {
  await runtime.createContainer(spec('plain'));
  const plain = (await inspect(names.container(slug, 'plain'))).HostConfig;
  t.same([plain.CapDrop, plain.CapAdd ?? [], plain.SecurityOpt, plain.PidsLimit, plain.ReadonlyRootfs, plain.Privileged], [['ALL'], [], ['no-new-privileges:true'], 48, true, false]);

  await runtime.createContainer(spec('netadmin', { relax: { capAdd: ['NET_ADMIN'] } }));
  const net = (await inspect(names.container(slug, 'netadmin'))).HostConfig;
  t.same(net.CapDrop, ['ALL'], 'everything else still dropped');
  t.same(net.CapAdd, ['NET_ADMIN'], 'only the allowed capability added');
  t.same([net.SecurityOpt, net.ReadonlyRootfs, net.Privileged], [['no-new-privileges:true'], true, false], 'the other defaults untouched');

  await runtime.createContainer(spec('writable', { relax: { writableRootfs: true, securityOpt: ['seccomp=unconfined'] } }));
  const w = (await inspect(names.container(slug, 'writable'))).HostConfig;
  t.equal(w.ReadonlyRootfs, false);
  t.same(w.SecurityOpt, ['no-new-privileges:true', 'seccomp=unconfined'], 'no-new-privileges stays beside an allowed option');
});
