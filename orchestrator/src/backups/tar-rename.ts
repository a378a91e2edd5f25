// A volume's tar with entries renamed as it streams: a restore into another
// team (a clone) moves the data its app finds by the team's name (the
// database's file, the storage's bucket) to the new team's name. Entries the
// rename maps to null are left out. Link targets are renamed alike.
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';

export type Rename = (name: string) => string | null;

export function renameEntries(source: Readable, rename: Rename): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  const fail = (err: Error) => out.destroy(err);
  extract.on('entry', (header, stream, next) => {
    const name = rename(header.name);
    if (name === null) {
      stream.on('end', next).resume();
      return;
    }
    const linkname = header.linkname ? (rename(header.linkname) ?? header.linkname) : header.linkname;
    const entry = pack.entry({ ...header, name, linkname }, (err) => (err ? fail(err) : next()));
    stream.pipe(entry);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', fail);
  source.on('error', fail);
  pack.on('error', fail);
  source.pipe(extract);
  pack.pipe(out);
  return out;
}

/**
 * The renames a team's stack needs when its data moves from slug `from` to
 * `to`: the database's files (<slug>.sqlite and its journal) and the
 * storage's bucket (its directory and MinIO's metadata for it); MinIO's
 * config is left out (from may equal to: the team made again). Only whole
 * path segments match: "acme" never renames "acme2".
 */
export function slugRename(top: string, from: string, to: string): Rename {
  const swaps: Array<[string, string]> = [
    [`${top}/${from}/`, `${top}/${to}/`],
    [`${top}/.minio.sys/buckets/${from}/`, `${top}/.minio.sys/buckets/${to}/`]
  ];
  const exact = new Map<string, string>([[`${top}/${from}`, `${top}/${to}`], [`${top}/.minio.sys/buckets/${from}`, `${top}/.minio.sys/buckets/${to}`]]);
  const file = new RegExp(`^${top}/${from}\\.sqlite(-wal|-shm|-journal)?$`);
  return (name) => {
    const clean = name.replace(/\/$/, '');
    const slash = name.endsWith('/') ? '/' : '';
    if (exact.has(clean)) return exact.get(clean)! + slash;
    for (const [a, b] of swaps) if (name.startsWith(a)) return b + name.slice(a.length);
    const m = file.exec(clean);
    if (m) return `${top}/${to}.sqlite${m[1] ?? ''}`;
    // A new team has new storage keys: MinIO's own config, made with the old
    // ones, is left out and made again at its first start.
    if (clean === `${top}/.minio.sys/config` || clean.startsWith(`${top}/.minio.sys/config/`)) return null;
    // MinIO's usage caches name buckets; it rebuilds them.
    if (clean.startsWith(`${top}/.minio.sys/buckets/.`) && /\.(bin|json)(\.bkp)?$/.test(clean)) return null;
    return name;
  };
}
