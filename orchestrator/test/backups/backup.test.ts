// A team's consistent backup on real parts (issue 15 item 1): a real team with
// a board item and an attachment, backed up while a member keeps using it,
// to a directory and to a real MinIO bucket the test starts. Every file of its
// database and storage is in the backup, sealed; the manifest's checksums and
// sizes and entry counts match what opens; the pause is measured and no request failed;
// damage and a wrong key are refused; an unreachable target fails the backup
// clearly, leaving the team serving and thawed; keys that leave the target
// are refused.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'minio';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';
import { BackupMaker } from '../../src/backups/backup-maker.js';
import { readManifest, readVolume, verifyBackup } from '../../src/backups/backup-reader.js';
import { backupTargetOf, checkKey, DirTarget, type BackupTarget } from '../../src/backups/backup-target.js';
import { readBackupConfig } from '../../src/config/backup.config.js';
import { loadPlatformKey, SecretBox } from '../../src/crypto/secret-box.js';
import { DEFAULT_LOAD, LoadStats, prepareTeam } from '../../src/capacity/load/team-load.js';
import { silentLogger } from '../../src/log.js';

const slug = testSlug('bk');
const tp = await startTestPlatform('backup');
const p = tp.platform;
t.teardown(() => tp.close());
const made = await p.tenants.create({ slug, ownerEmail: 'owner@backup.example' });
if ((await operationEnd(p.events, made.operation.id)).type !== 'operation.succeeded') throw new Error('the team was not made');
const key = new SecretBox(await loadPlatformKey(tp.config.home, tp.config.platformKey)).keyFor('backup');
const maker = new BackupMaker({ runtime, platformId: tp.config.platformId, key, log: silentLogger });
const spec = async () => p.stacks.specFor((await p.repo.get(slug))!);

// A member with a board item and an attachment, through nginx.
const edge = { port: tp.config.nginx.httpPort, baseDomain: tp.config.baseDomain };
const team = await prepareTeam(edge, { slug, setupUrl: (await p.tenantViews.ownerSetupUrl(slug))! }, { ...DEFAULT_LOAD, members: 1 }, new LoadStats());
const member = team.members[0]!;
const api = { cookie: member.cookie, 'x-csrf-token': member.csrf, accept: 'application/json' };
const title = `backup-proof-${randomBytes(6).toString('hex')}`;
const item = await team.http.request('POST', '/api/items', { ...api, 'content-type': 'application/json' }, JSON.stringify({ title, status: 'todo' }));
if (item.status !== 201) throw new Error(`item: ${item.status} ${item.body}`);
const itemId = (JSON.parse(item.body.toString()) as { item: { id: string } }).item.id;
const file = randomBytes(300 * 1024);
const upload = await team.http.request('POST', `/api/items/${itemId}/attachments?name=proof.bin`, { ...api, 'content-type': 'application/octet-stream' }, file);
if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${upload.body}`);
t.teardown(() => team.http.close());

/** Reads the member's board every 20 ms until stopped: every answer's status and time. */
function keepUsing() {
  const answers: { status: number; ms: number }[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const t0 = performance.now();
      const a = await team.http.request('GET', '/api/items', api).catch(() => ({ status: 0 }));
      answers.push({ status: a.status, ms: performance.now() - t0 });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: async () => ((on = false), await loop, answers) };
}

const plainOf = async (target: BackupTarget, m: Awaited<ReturnType<typeof readManifest>>, volume: string) => {
  const chunks: Buffer[] = [];
  await readVolume(target, m, volume, key, (tar) => pipeline(tar, new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) })));
  return Buffer.concat(chunks);
};

t.test('to a directory, while a member uses the team: every file, sealed, checked, the pause measured, no request failed', async (t) => {
  const dir = t.testdir();
  const target = new DirTarget(dir);
  const use = keepUsing();
  await new Promise((r) => setTimeout(r, 300));
  const m = await maker.backup(await spec(), target, { running: true, frozen: false });
  await new Promise((r) => setTimeout(r, 300));
  const answers = await use.stop();
  t.ok(answers.length > 10, `${answers.length} requests during the backup`);
  t.same(answers.filter((a) => a.status !== 200), [], 'none failed');
  t.ok(m.pauseMs > 0 && m.pauseMs < 30_000, `paused ${m.pauseMs} ms`);
  t.comment(`backup of ${m.volumes.map((v) => `${v.volume} ${v.tarBytes} bytes`).join(', ')}: paused ${m.pauseMs} ms; slowest request during it ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`);
  t.match(m, { format: 'berth-backup/2', tenant: slug, plan: 'starter', appVersion: tp.config.defaultAppVersion, keyId: /^[0-9a-f]{16}$/ });
  t.same(m.volumes.map((v) => v.volume).sort(), ['db-data', 'storage-data'], 'the database and the storage');
  t.same(await target.list(`${slug}/`), [...m.volumes.map((v) => `${slug}/${m.id}/${v.file}`), `${slug}/${m.id}/manifest.json`].sort(), 'the files and the manifest, nothing half-written');
  t.same(await readManifest(target, slug, m.id), m, 'the manifest as returned');
  await verifyBackup(target, m, key);
  t.pass('every frame opens, and the sizes, tag checksums and entry counts match the manifest');
  for (const v of m.volumes) t.ok(v.entries > 0 && v.tarBytes > v.bytes && v.sealedBytes > v.tarBytes && /^[0-9a-f]{64}$/.test(v.tagsSha256), `${v.volume}: ${v.entries} entries, ${v.bytes} bytes of files, sealed ${v.sealedBytes}`);
  const db = await plainOf(target, m, 'db-data');
  t.ok(db.includes(Buffer.from(title)), 'the item is in the database\'s files');
  const storage = await plainOf(target, m, 'storage-data');
  t.ok(storage.includes(file.subarray(0, 4096)), 'the attachment is in the storage\'s files');
  const sealedFile = path.join(dir, slug, m.id, 'db-data.tar.sealed');
  t.notOk((await readFile(sealedFile)).includes(Buffer.from(title)), 'sealed: the item is not readable in the file');
  for (const c of (await spec()).services) t.equal((await runtime.inspectContainer(c.container.name))?.state, 'running', `${c.name} thawed`);

  const sealed = await readFile(sealedFile);
  sealed[sealed.length >> 1] ^= 0xff;
  await writeFile(sealedFile, sealed);
  await t.rejects(verifyBackup(target, m, key), { code: 'BACKUP_CORRUPT' }, 'a damaged file is refused');
  await t.rejects(verifyBackup(target, { ...m, volumes: m.volumes.filter((v) => v.volume === 'storage-data') }, randomBytes(32)), { code: 'BACKUP_CORRUPT' }, 'another key is refused');
});

t.test('to a real MinIO bucket; an unreachable target fails clearly and the team keeps serving', async (t) => {
  const name = `berth-test-s3-${randomBytes(4).toString('hex')}`;
  const user = 'backupadmin';
  const secret = randomBytes(16).toString('hex');
  await docker('run', '-d', '--name', name, '--label', 'berth.test=backup', '-p', '127.0.0.1::9000', '-e', `MINIO_ROOT_USER=${user}`, '-e', `MINIO_ROOT_PASSWORD=${secret}`, config.images.storage);
  t.teardown(() => docker('rm', '-f', '-v', name));
  const port = Number((await docker('port', name, '9000/tcp')).split(':').pop());
  const client = new Client({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: user, secretKey: secret, pathStyle: true });
  await until(async () => client.makeBucket('backups').then(() => true, () => false), 30_000, 'MinIO to take a bucket');
  // Through the settings an operator writes (BERTH_BACKUP_S3_*), as the platform reads them.
  // The test's own directory: a bucket target seals its files in <dir>/.work before the upload.
  const work = t.testdir();
  const settings = (env: Record<string, string>) => readBackupConfig((n) => ({ BERTH_BACKUP_DIR: work, BERTH_BACKUP_S3_BUCKET: 'backups', BERTH_BACKUP_S3_PREFIX: 'berth', BERTH_BACKUP_S3_ACCESS_KEY: user, BERTH_BACKUP_S3_SECRET_KEY: secret, ...env })[n] ?? '');
  const target = backupTargetOf(settings({ BERTH_BACKUP_S3_ENDPOINT: `http://127.0.0.1:${port}` }));
  t.equal(target.describe, 's3:backups/berth');
  const m = await maker.backup(await spec(), target, { running: true, frozen: false });
  t.same(await target.list(`${slug}/`), [...m.volumes.map((v) => `${slug}/${m.id}/${v.file}`), `${slug}/${m.id}/manifest.json`].sort());
  const objects: string[] = [];
  for await (const o of client.listObjectsV2('backups', 'berth/', true) as AsyncIterable<{ name: string }>) objects.push(o.name);
  t.ok(objects.every((o) => o.startsWith(`berth/${slug}/${m.id}/`)), 'under the prefix');
  await verifyBackup(target, await readManifest(target, slug, m.id), key);
  t.pass('read back from the bucket and checked');
  t.ok((await plainOf(target, m, 'db-data')).includes(Buffer.from(title)), 'the item came back');

  const nowhere = backupTargetOf(settings({ BERTH_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:1' }));
  await t.rejects(maker.backup(await spec(), nowhere, { running: true, frozen: false }), { code: 'BACKUP_FAILED', message: /s3:backups\/berth/ });
  for (const c of (await spec()).services) t.equal((await runtime.inspectContainer(c.container.name))?.state, 'running', `${c.name} thawed after the failure`);
  t.equal((await team.http.request('GET', '/api/items', api)).status, 200, 'the team serves');
});

t.test('keys that would leave the target are refused', async (t) => {
  for (const bad of ['../etc/passwd', `${slug}/../../x`, '/abs', `${slug}/a/b/c`, 'x'.repeat(1 << 20), `${slug}/./x`, 'Acme/x', '']) {
    t.throws(() => checkKey(bad), { code: 'BACKUP_FAILED' }, JSON.stringify(bad.slice(0, 30)));
  }
  t.equal(checkKey(`${slug}/20261203T120000Z-abcdef/manifest.json`), `${slug}/20261203T120000Z-abcdef/manifest.json`);
});

t.test('target settings: a bad one stops the platform with what to fix; with no endpoint, the directory', async (t) => {
  const read = (env: Record<string, string>) => () => readBackupConfig((n) => ({ BERTH_BACKUP_DIR: '/var/lib/berth-backups', BERTH_BACKUP_S3_BUCKET: 'b-1', BERTH_BACKUP_S3_PREFIX: 'berth', BERTH_BACKUP_S3_ACCESS_KEY: 'a', BERTH_BACKUP_S3_SECRET_KEY: 's', ...env })[n] ?? '');
  t.same(read({})(), { dir: '/var/lib/berth-backups', intervalMs: 60_000, parallel: 1 }, 'no endpoint: the directory, and the scheduler\'s defaults');
  t.equal(backupTargetOf(read({})()).describe, 'dir:/var/lib/berth-backups');
  for (const [env, why] of [
    [{ BERTH_BACKUP_DIR: 'relative' }, /BERTH_BACKUP_DIR must be an absolute path/],
    [{ BERTH_BACKUP_DIR: '/var/../etc' }, /BERTH_BACKUP_DIR must be an absolute path without/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'ftp://x' }, /BERTH_BACKUP_S3_ENDPOINT must be http\(s\)/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://user:pw@s3.example.com' }, /no path, user or query/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3.example.com/bucket' }, /no path, user or query/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'not a url' }, /must be a URL/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3', BERTH_BACKUP_S3_BUCKET: 'a..b' }, /BUCKET must be an S3 bucket name/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3', BERTH_BACKUP_S3_BUCKET: 'x'.repeat(1 << 20) }, /BUCKET must be an S3 bucket name .* got "x{80}"$/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3', BERTH_BACKUP_S3_PREFIX: '../up' }, /PREFIX must be path segments/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3', BERTH_BACKUP_S3_PREFIX: '/abs' }, /PREFIX must be path segments/],
    [{ BERTH_BACKUP_S3_ENDPOINT: 'http://s3', BERTH_BACKUP_S3_SECRET_KEY: '' }, /must both be set/]
  ] as const) {
    t.throws(read(env), { code: 'CONFIG_INVALID', message: why }, JSON.stringify(env).slice(0, 80));
  }
});
