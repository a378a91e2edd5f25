// --wait: follows /api/v1/events/stream?operation=ID (server-sent events)
// until the handler sees the end. The stream replays what the operation
// already did, so a late or repeated connection still sees how it ended;
// event ids (increasing) keep a reconnect from handling one twice. A stream
// that ends early (an orchestrator restart) is reopened up to 5 times.
import { setTimeout as sleep } from 'node:timers/promises';
import { CliExit, EXIT, fail } from './exit.js';
import { badResponse, seg, stream, TransportError, transportError, unreachable, type Api } from './http.js';
import { err, inline } from './output.js';

const RETRIES = 5;

/** Handles one event (its SSE type and data); true when the wait is over. May throw a CliExit (exit 4). */
export type Handler = (type: string, data: string) => boolean;

export interface Follow {
  id: string;
  /** What is waited for ("restart acme"), for the timeout message. */
  what: string;
  /** The command that shows how it stands, and what `id` is. */
  hint: string;
  noun: 'operation' | 'job';
  timeoutS: number;
}

export async function follow(api: Api, f: Follow, handler: Handler): Promise<void> {
  const deadline = Date.now() + f.timeoutS * 1000;
  const timedOut = () =>
    fail(EXIT.timeout, 'TIMEOUT', `gave up after ${f.timeoutS} s waiting for ${f.what} (${f.noun} ${f.id}); it may still be running (see ${f.hint})`);
  let last = 0;
  let retries = 0;
  let lastError: TransportError = new TransportError('the server closed the connection without answering', 'stream ended');
  for (;;) {
    if (Date.now() >= deadline) timedOut();
    try {
      const res = await stream(api, `/api/v1/events/stream?operation=${seg(f.id)}`, deadline - Date.now());
      const done = await readEvents(res, (id, type, data) => {
        const n = /^[0-9]+$/.test(id) ? Number(id) : undefined;
        if (n !== undefined && n <= last) return false;
        if (n !== undefined) last = n;
        retries = 0;
        return handler(type, data);
      });
      res.destroy();
      if (done) return;
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) timedOut();
    retries++;
    if (retries > RETRIES) unreachable(api, lastError);
    await sleep(Math.min(retries * 1000, Math.max(0, deadline - Date.now())));
  }
}

/** Reads events until `onEvent` says done (true) or the stream ends (false). */
async function readEvents(res: AsyncIterable<string | Buffer> & { setEncoding(e: BufferEncoding): unknown }, onEvent: (id: string, type: string, data: string) => boolean): Promise<boolean> {
  res.setEncoding('utf8');
  let buffer = '';
  let id = '';
  let type = '';
  let data: string[] = [];
  try {
    for await (const chunk of res) {
      buffer += chunk as string;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length > 0 && onEvent(id, type, data.join('\n'))) return true;
          id = type = '';
          data = [];
        } else if (line.startsWith(':')) continue; // the server's "connected" and keep-alive
        else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
      }
    }
  } catch (e) {
    // The handler's own verdict (exit 4) passes; only the stream's failures are transport errors.
    throw e instanceof CliExit ? e : transportError(e, true);
  }
  return false;
}

interface OperationEvent {
  type?: string;
  data?: { step?: string; phase?: string; seconds?: number; code?: string; message?: unknown };
}

/** A tenant operation: each step on stderr; done when it succeeded, exit 4 when it failed. */
export function onOperationEvent(type: string, raw: string): boolean {
  let e: OperationEvent;
  try {
    e = JSON.parse(raw) as OperationEvent;
  } catch {
    return false;
  }
  // The server sends the whole event ({type, data: {...}}); accept a bare payload too.
  const d = (e.data ?? e) as NonNullable<OperationEvent['data']>;
  const phase = inline(d.phase);
  switch (type || e.type) {
    case 'operation.step':
      if (d.step) err(`  ${inline(d.step)}`);
      return false;
    case 'operation.succeeded':
      err(`succeeded${d.seconds !== undefined && d.seconds !== null ? ` in ${inline(d.seconds)}s` : ''}${phase ? `: ${phase}` : ''}`);
      return true;
    case 'operation.failed': {
      const code = typeof d.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(d.code) ? d.code : 'OPERATION_FAILED';
      fail(EXIT.opFailed, code, `${inline(d.message) || 'the operation failed'}${phase ? ` (phase now ${phase})` : ''}`);
    }
  }
  return false;
}

/** An operation the API just accepted: its id on stdout, or with --wait followed to its end. */
export async function finishOperation(api: Api, body: unknown, what: string, wait: { wait: boolean; timeoutS: number }): Promise<void> {
  const id = operationId(api, body);
  if (!wait.wait) return void process.stdout.write(`${id}\n`);
  await waitOperation(api, id, what, wait.timeoutS);
}

export async function waitOperation(api: Api, id: string, what: string, timeoutS: number): Promise<void> {
  err(`${what}: operation ${id}`);
  await follow(api, { id, what, hint: 'berth tenant status', noun: 'operation', timeoutS }, onOperationEvent);
}

export function operationId(api: Api, body: unknown): string {
  const id = (body as { operation?: { id?: unknown } } | null)?.operation?.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(id)) badResponse(api, 'no operation id');
  return id;
}
