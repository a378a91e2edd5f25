// berth backup download: the backup's tar streamed into a file. It is written
// to <file>.partial and moved to <file> only once the whole tar has arrived:
// the server cuts a download off at the first damaged part of a backup
// (backups.routes.ts), and a cut tar must not look like a whole one. An
// existing file is never overwritten: it may be the only copy of an older
// backup.
import { once } from 'node:events';
import { createWriteStream, unlinkSync } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { EXIT, fail } from './exit.js';
import { stream, TransportError, transportError, type Api } from './http.js';

/** No byte for this long: the download is stuck (a whole backup may take long, so there is no overall limit). */
const IDLE_MS = 120_000;

const code = (e: unknown) => String((e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? e);

/** Refuses (exit 2) when `file` exists; a dangling symlink counts, since writing would follow it. */
export async function refuseExisting(file: string): Promise<void> {
  const there = await lstat(file).then(() => true, (e: unknown) => code(e) !== 'ENOENT');
  if (there) fail(EXIT.usage, 'FILE_EXISTS', `${file} exists: berth does not overwrite it; choose another --out or move it away`);
}

/** GET `path` into `file`; the bytes written. Exit 2 before any request when the file cannot be made. */
export async function downloadTo(api: Api, path: string, file: string): Promise<number> {
  await refuseExisting(file);
  const partial = `${file}.partial`;
  // 0600 and exclusive: a team's data, and a second download to the same file
  // must not share it. Opened before the request: a file that cannot be made costs none.
  // flush: fsync before the close, so the file is on disk before it gets its name.
  const ws = createWriteStream(partial, { flags: 'wx', mode: 0o600, flush: true });
  await once(ws, 'open').catch((e: unknown) =>
    code(e) === 'EEXIST'
      ? fail(EXIT.usage, 'FILE_EXISTS', `${partial} exists: another download to ${file} may be under way; if not, remove it`)
      : fail(EXIT.usage, 'CANNOT_WRITE', `cannot write ${partial} (${code(e)}); is --out in a directory you can write to?`)
  );
  let writeError: unknown;
  ws.on('error', (e) => (writeError = e));
  let published = false;
  // A signal ends the CLI with process.exit (berth.ts): only a synchronous 'exit' listener still runs then.
  const onExit = () => published || void tryUnlinkSync(partial);
  process.on('exit', onExit);
  try {
    const res = await stream(api, path);
    res.setTimeout(IDLE_MS, () => res.destroy(new TransportError('timed out', `no data for ${IDLE_MS / 1000} s`)));
    try {
      await pipeline(res, ws);
      if (!res.complete) throw new TransportError('the connection broke mid-response', 'incomplete');
      if (!ws.closed) await once(ws, 'close');
    } catch (e) {
      if (writeError) fail(EXIT.api, 'WRITE_FAILED', `writing ${partial} failed after ${ws.bytesWritten} bytes (${code(writeError)}); nothing was written to ${file}`);
      const t = transportError(e, true);
      fail(EXIT.unreachable, 'DOWNLOAD_BROKEN', `the download broke off after ${ws.bytesWritten} bytes (${t.reason}: ${t.detail}); nothing was written to ${file}. The server stops a download at the first damaged part of a backup: if it happens again, see its log`);
    }
    await publish(partial, file);
    published = true;
    return ws.bytesWritten;
  } finally {
    ws.destroy();
    if (!published) await unlink(partial).catch(() => undefined);
    process.off('exit', onExit);
  }
}

/** <file>.partial → <file>, never over a file made meanwhile (link fails on an existing name; rename would replace it). */
async function publish(partial: string, file: string): Promise<void> {
  try {
    await link(partial, file);
  } catch (e) {
    if (code(e) === 'EEXIST') fail(EXIT.usage, 'FILE_EXISTS', `${file} appeared during the download: berth does not overwrite it; nothing was written to it`);
    // A file system without hard links (some FUSE and network mounts): check, then rename.
    await refuseExisting(file);
    await rename(partial, file);
    return;
  }
  await unlink(partial);
}

function tryUnlinkSync(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or never made: nothing to clean.
  }
}
