// The platform database is closed to everyone but root: a real FerretDB
// container with no network and no published port, reached through a Unix
// socket under BERTH_HOME. An unprivileged local process (user nobody, the
// same uid the database runs as) is refused; an older container with a
// published port is replaced, its data kept; a socket left by a killed
// database does not stop the next start.
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { TokensService } from '../../src/auth/tokens.service.js';
import type { PlatformConfig } from '../../src/config/config.js';
import { connectDatabase } from '../../src/db/mongo.js';
import { ensurePlatformDb, platformDbPaths, removePlatformDb } from '../../src/platform/platform-db.js';
import { config as baseConfig, docker, runtime } from '../helpers/docker.js';
import { until } from '../helpers/wait.js';

const hex = randomBytes(4).toString('hex');
const container = `tpdb-${hex}`;
const home = await mkdtemp(path.join(os.tmpdir(), 'berth-pdb-'));
const config: PlatformConfig = { ...baseConfig, home, mongoUrl: undefined, platformDb: { container } };
const { socket, dir } = platformDbPaths(home);
t.teardown(async () => {
  await removePlatformDb(runtime, container, true);
  await rm(home, { recursive: true, force: true });
});

/** A Node process as user nobody (uid 65534, no groups) that dials the socket and prints what happened. */
function asNobody(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

const DIAL = (target: string) => `
  const s = require('node:net').createConnection(${JSON.stringify(target)});
  s.on('connect', () => { console.log('CONNECTED'); s.destroy(); });
  s.on('error', (e) => console.log(e.code));`;

let token = '';

t.test('the registry works through the socket', async (t) => {
  const started = Date.now();
  const url = await ensurePlatformDb(runtime, config);
  t.comment(`platform database ready in ${Date.now() - started} ms`);
  t.equal(url, `mongodb://${encodeURIComponent(socket)}/`, 'a socket URL, no host or port');
  t.ok((await stat(socket)).isSocket(), `the socket is at ${socket}`);
  const db = await connectDatabase(url, 'berth');
  t.teardown(() => db.close());
  const tokens = new TokensService(db.db);
  await tokens.init();
  ({ token } = await tokens.create({ name: 'socket check', scope: 'admin' }));
  t.match(await tokens.authenticate(token), { name: 'socket check', scope: 'admin' }, 'a token written through the socket reads back');
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'its directory is 0700');
  t.equal((await stat(dir)).uid, 0, 'and root\'s');
});

t.test('an unprivileged local process cannot reach it', async (t) => {
  t.equal(await asNobody(DIAL(socket)), 'EACCES', 'user nobody dialling the socket is refused (EACCES)');
  t.equal(await asNobody(`try { require('node:fs').readdirSync(${JSON.stringify(dir)}); console.log('LISTED') } catch (e) { console.log(e.code) }`), 'EACCES', 'and cannot even list its directory');

  const ports = JSON.parse(await docker('inspect', '--format', '{{json .NetworkSettings.Ports}}', container)) as Record<string, unknown> | null;
  t.same(ports ?? {}, {}, 'the container publishes no port at all');
  const bindings = JSON.parse(await docker('inspect', '--format', '{{json .HostConfig.PortBindings}}', container)) as Record<string, unknown> | null;
  t.same(bindings ?? {}, {}, 'and asks for none');
});

t.test("the container's networks admit no tenant", async (t) => {
  const info = await runtime.inspectContainer(container);
  t.same(info?.networks, ['none'], 'it is on no network: only its own loopback');
  const addresses = await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container);
  t.equal(addresses, '', 'it has no address any container or host process could dial');
});

t.test('a socket left by a killed database does not stop the next start', async (t) => {
  await docker('kill', container);
  await until(async () => !(await runtime.inspectContainer(container))?.running, 20_000, 'the database to stop');
  t.ok((await stat(socket)).isSocket(), 'SIGKILL leaves the socket file behind');
  const url = await ensurePlatformDb(runtime, config);
  const db = await connectDatabase(url, 'berth');
  t.teardown(() => db.close());
  t.match(await new TokensService(db.db).authenticate(token), { name: 'socket check' }, 'it starts again on the same data');
});

t.test('a platform database of an older Berth (published TCP port) is replaced, its data kept', async (t) => {
  const old = `tpdb-old-${hex}`;
  const oldHome = await mkdtemp(path.join(os.tmpdir(), 'berth-pdb-old-'));
  const labels = { 'berth.managed': 'true', 'berth.role': 'platform-db' };
  t.teardown(async () => {
    await removePlatformDb(runtime, old, true);
    await rm(oldHome, { recursive: true, force: true });
  });
  // What ensurePlatformDb made before: a network of its own and 27017 published on 127.0.0.1.
  await runtime.ensureNetwork({ name: `${old}-net`, labels });
  await runtime.ensureVolume({ name: `${old}-data`, labels });
  await runtime.createContainer({
    name: old, image: config.images.db, env: {}, labels,
    networks: [{ name: `${old}-net`, aliases: ['db'] }], mounts: [{ volume: `${old}-data`, target: '/data' }],
    publish: { containerPort: 27017, hostPort: 0 },
    limits: { memoryBytes: 512 * 1024 ** 2, nanoCpus: 5e8, pids: 256 }, tmpfs: [{ target: '/tmp', sizeBytes: 16 * 1024 ** 2 }]
  });
  await runtime.startContainer(old);
  const port = await until(async () => (await runtime.inspectContainer(old))?.published[27017], 20_000, 'the old port');
  const tcp = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 20_000 });
  await tcp.db('berth').collection('kept').insertOne({ _id: 'before-upgrade' } as never);
  await tcp.close();

  const url = await ensurePlatformDb(runtime, { ...config, home: oldHome, platformDb: { container: old } });
  const db = await connectDatabase(url, 'berth');
  t.teardown(() => db.close());
  t.ok(await db.db.collection('kept').findOne({ _id: 'before-upgrade' } as never), 'the data written over TCP is there through the socket');
  const info = await runtime.inspectContainer(old);
  t.same(info?.published, {}, 'no port published any more');
  t.same(info?.networks, ['none']);
  t.same(await runtime.listNetworks({ 'berth.role': 'platform-db' }).then((n) => n.filter((x) => x.name === `${old}-net`)), [], 'its old network is gone');
});
