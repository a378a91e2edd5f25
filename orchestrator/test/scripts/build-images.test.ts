// scripts/build-images against the real engine. The test command has already
// built the images; here a second run must be a cached no-op.
import t from 'tap';
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

t.test('every image carries the hash of its inputs', async (t) => {
  for (const image of [config.images.db, config.images.storage, config.images.nodeBase, appImage]) {
    t.match(await docker('image', 'inspect', image, '--format', '{{index .Config.Labels "berth.inputs"}}'), /^[0-9a-f]{16}$/, image);
  }
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
