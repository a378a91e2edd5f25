// scripts/build-images against the real engine. The test command has already
// built the images; here a second run must be a cached no-op.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT_DIR } from '../../src/config/config.js';
import { config, docker } from '../helpers/docker.js';

const run = promisify(execFile);
const script = path.join(ROOT_DIR, 'scripts/build-images');
const appImage = `${config.images.appRepo}:${config.defaultAppVersion}`;

t.test('with unchanged inputs a second run rebuilds nothing', async (t) => {
  const { stderr } = await run('bash', [script]);
  for (const image of [config.images.db, config.images.storage, config.images.nodeBase, appImage]) {
    t.match(stderr, `${image} is up to date`, image);
  }
  t.notMatch(stderr, /built |compiling/);
});

const inputsLabel = (image: string) => docker('image', 'inspect', image, '--format', '{{index .Config.Labels "berth.inputs"}}');

t.test('every image carries the hash of its inputs', async (t) => {
  for (const image of [config.images.db, config.images.storage, config.images.nodeBase, appImage]) {
    t.match(await inputsLabel(image), /^[0-9a-f]{16}$/, image);
  }
});

t.test('the hash is of the inputs\' contents: the same elsewhere, another when an input changes, and then stable', async (t) => {
  // A copy of scripts/ in a temporary folder (the repo's own files are never
  // touched), with a cache of its own so no staging folder is shared with a
  // concurrent run; the probe binary, named by its sources' hash, is copied in
  // so nothing is compiled. The image built here has a name of its own.
  const home = await mkdtemp(path.join(os.tmpdir(), 'berth-build-images-'));
  const image = `berth-test/node-base-${randomBytes(4).toString('hex')}:t`;
  t.teardown(async () => {
    await docker('image', 'rm', '--force', image).catch(() => '');
    await rm(home, { recursive: true, force: true });
  });
  await cp(path.join(ROOT_DIR, 'scripts'), path.join(home, 'scripts'), { recursive: true });
  await mkdir(path.join(home, 'tenant-app'));
  await cp(path.join(ROOT_DIR, 'tenant-app/package.json'), path.join(home, 'tenant-app/package.json'));
  const cache = path.join(home, 'cache');
  const sharedBin = path.join(process.env.BERTH_CACHE ?? '/var/cache/berth', 'bin');
  await mkdir(path.join(cache, 'bin'), { recursive: true });
  for (const f of (await readdir(sharedBin)).filter((f) => f.startsWith('berth-probe-'))) await cp(path.join(sharedBin, f), path.join(cache, 'bin', f));
  const copy = (nodeBase: string) => run('bash', [path.join(home, 'scripts/build-images'), '--only', 'node-base'], {
    env: { ...process.env, BERTH_CACHE: cache, BERTH_IMAGE_NODE_BASE: nodeBase },
    maxBuffer: 16 << 20
  });
  const original = await inputsLabel(config.images.nodeBase);

  const same = await copy(config.images.nodeBase);
  t.match(same.stderr, `${config.images.nodeBase} is up to date`, 'unchanged inputs at another path: the same hash, no build');
  t.equal(await inputsLabel(config.images.nodeBase), original, 'the real image untouched');

  await appendFile(path.join(home, 'scripts/images/node-base/Dockerfile'), '\n# an input changed\n');
  const changed = await copy(image);
  t.match(changed.stderr, `built ${image}`, 'a changed input builds');
  const changedKey = await inputsLabel(image);
  t.match(changedKey, /^[0-9a-f]{16}$/);
  t.not(changedKey, original, 'a changed Dockerfile gives another hash');

  const again = await copy(image);
  t.match(again.stderr, `${image} is up to date`, 'nothing changed since: no build');
  t.notMatch(again.stderr, /built /);
  t.equal(await inputsLabel(image), changedKey, 'and the same hash');
});

t.test('the database and storage images are static binaries in empty images', async (t) => {
  for (const image of [config.images.db, config.images.storage]) {
    t.equal(await docker('image', 'inspect', image, '--format', '{{len .RootFS.Layers}}'), '1', `${image}: one layer, FROM scratch`);
    await t.rejects(docker('run', '--rm', '--entrypoint', '/bin/sh', image, '-c', 'true'), `${image} has no shell`);
    t.equal(await docker('image', 'inspect', image, '--format', '{{.Config.User}}'), '65534:65534', `${image} runs unprivileged`);
  }
  const version = await docker('run', '--rm', config.images.db, '--version');
  t.match(version, /^version: v1\.\d+\.\d+/m, 'FerretDB v1.x');
});

t.test('the tenant app runs on the node base image', async (t) => {
  const base = (await docker('image', 'inspect', config.images.nodeBase, '--format', '{{json .RootFS.Layers}}'));
  const app = (await docker('image', 'inspect', appImage, '--format', '{{json .RootFS.Layers}}'));
  const baseLayers = JSON.parse(base) as string[];
  t.same((JSON.parse(app) as string[]).slice(0, baseLayers.length), baseLayers);
  t.equal(await docker('run', '--rm', '--entrypoint', 'node', appImage, '-p', 'process.version'), process.version, 'the host\'s own Node');
});

t.test('bad options are refused with a clear message', async (t) => {
  const err = await run('bash', [script, '--only', 'nope']).catch((e: { code: number; stderr: string }) => e);
  t.equal((err as { code: number }).code, 1);
  t.match((err as { stderr: string }).stderr, /--only nope: expected db, storage, node-base or app/);
  const bad = await run('bash', [script, '--app-version', 'no spaces allowed']).catch((e: { stderr: string }) => e);
  t.match((bad as { stderr: string }).stderr, /not a valid image tag/);
});
