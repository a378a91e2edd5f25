// A team's volume holds what the team wrote: links included, pointing
// anywhere. Reading it for a backup (GNU tar from the host, as root) must keep
// a link as a link, never follow it to the host's files; writing a backup
// back (the engine's putArchive, confined to the helper container) must never
// let a crafted archive write through a link onto the host. Real volumes,
// real engine; the hostile tar is made here with tar-stream.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { access, lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { config, docker, runtime } from '../helpers/docker.js';

const id = randomBytes(4).toString('hex');
const labels = { 'berth.managed': 'true', 'berth.platform': `t-volarch-${id}`, 'berth.tenant': `tva-${id}` };
const source = `berth.tva-${id}.src`;
const target = `berth.tva-${id}.dst`;
const image = config.images.storage;
const spec = (volume: string, job: string) => ({ volume, image, path: '/data', helper: `berth.tva-${id}.${job}`, labels });
const mountpoint = async (volume: string) => docker('volume', 'inspect', '-f', '{{.Mountpoint}}', volume);
t.teardown(async () => {
  for (const v of [source, target]) await docker('volume', 'rm', '-f', v).catch(() => '');
});
for (const v of [source, target]) await runtime.ensureVolume({ name: v, labels });

t.test('reading a volume keeps its links as links: the host\'s files are never read through them', async (t) => {
  const shadow = (await readFile('/etc/shadow', 'utf8')).split('\n')[0]!;
  const dir = await mountpoint(source);
  // What a team could leave in its volume: links to the host's secrets and root.
  await docker('run', '--rm', '--network', 'none', '--user', '0', '-v', `${source}:/data`, '--entrypoint', '/bin/sh', config.images.db, '-c',
    'ln -s /etc/shadow /data/evil && ln -s / /data/hostroot && echo mine > /data/file').catch(async () => {
    // An image without a shell: make them from the host.
    const { symlink, writeFile } = await import('node:fs/promises');
    await symlink('/etc/shadow', path.join(dir, 'evil'));
    await symlink('/', path.join(dir, 'hostroot'));
    await writeFile(path.join(dir, 'file'), 'mine\n');
  });
  const entries: { name: string; type: string; linkname?: string | null }[] = [];
  const chunks: Buffer[] = [];
  await runtime.exportVolume(spec(source, 'export'), async (archive) => {
    const extract = tar.extract();
    extract.on('entry', (h, stream, next) => {
      entries.push({ name: h.name, type: h.type ?? '', linkname: h.linkname });
      stream.on('end', next).resume();
    });
    archive.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      archive.pipe(extract);
    });
  });
  t.match(entries.find((e) => e.name === 'data/evil'), { type: 'symlink', linkname: '/etc/shadow' }, 'the link to /etc/shadow is a link');
  t.match(entries.find((e) => e.name === 'data/hostroot'), { type: 'symlink', linkname: '/' }, 'the link to / is a link');
  t.same(entries.filter((e) => e.name.startsWith('data/hostroot/')), [], 'nothing under it was read');
  t.notOk(Buffer.concat(chunks).includes(Buffer.from(shadow)), 'no byte of the host\'s /etc/shadow is in the archive');
  t.ok(entries.some((e) => e.name === 'data/file'), 'the team\'s own file is');
});

t.test('writing a crafted archive back never writes through a link onto the host', async (t) => {
  const canary = `berth-pwned-${id}`;
  const pack = tar.pack();
  pack.entry({ name: 'data/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'data/out', type: 'symlink', linkname: '/tmp' });
  pack.entry({ name: `data/out/${canary}`, mode: 0o644 }, 'written through a link\n');
  pack.entry({ name: `data/../../tmp/${canary}-dotdot`, mode: 0o644 }, 'written by a path that climbs\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await runtime.importVolume(spec(target, 'import'), Readable.from([Buffer.concat(chunks)])).catch((err: Error) => t.comment(`the engine refused the archive: ${err.message}`));
  for (const p of [`/tmp/${canary}`, `/tmp/${canary}-dotdot`]) {
    t.rejects(access(p), `nothing at ${p} on the host`);
  }
  const dir = await mountpoint(target);
  const link = await lstat(path.join(dir, 'out')).catch(() => undefined);
  if (link) {
    t.ok(link.isSymbolicLink(), 'the link stays a link inside the volume');
    t.equal(await readlink(path.join(dir, 'out')), '/tmp');
  }
});
