// What bench/backup.bench.ts does to a team, apart from timing: fills its
// board and its storage through nginx as a member would (paced under the
// plan's edge rate), keeps a member reading the board, and follows an
// operation on the API's event stream to its end. Every retry and every
// failed or non-200 answer is kept, for the report.
import { createHash, randomBytes } from 'node:crypto';
import { prepareTeam } from './scenarios/team-load.js';

type Team = Awaited<ReturnType<typeof prepareTeam>>;
type TeamHttp = Team['http'];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reasonOf = (err: unknown) => (err as Error).message.replace(/[0-9a-f]{8,}/g, '…').slice(0, 80);

/** Counts by reason ("create item: HTTP 429"), printed at the end. */
export class Tally extends Map<string, number> {
  add(key: string): void {
    this.set(key, (this.get(key) ?? 0) + 1);
  }
  total(): number {
    return [...this.values()].reduce((s, n) => s + n, 0);
  }
  override toString(): string {
    return this.size ? [...this].map(([k, n]) => `${k} ×${n}`).join('; ') : 'none';
  }
}

/** Spaces calls `1000 / perSecond` ms apart across all callers: the plan's edge rate is a limit, not a target. */
function pacer(perSecond: number): () => Promise<void> {
  let next = performance.now();
  return async () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + 1000 / perSecond;
    if (at > now) await sleep(at - now);
  };
}

export interface Upload {
  item: string;
  id: string;
  bytes: number;
  sha256: string;
}

export interface FillOptions {
  items: number;
  /** Sizes of the attachments, one per item from the first on (wrapping round the items). */
  files: number[];
  /** Requests per second, all kinds together. */
  rate: number;
  retries: Tally;
}

/**
 * Makes `items` board items and uploads `files` (random bytes: they do not
 * compress) through nginx. Only a 429 (nginx's refusal: the app never saw
 * the request) is retried, after its Retry-After; any other failure ends the
 * bench, so the board holds exactly what was asked for.
 */
export async function fillTeam(team: Team, o: FillOptions): Promise<{ itemIds: string[]; uploads: Upload[] }> {
  const member = team.members[0]!;
  const api = { cookie: member.cookie, 'x-csrf-token': member.csrf, accept: 'application/json' };
  const pace = pacer(o.rate);
  const send = async (what: string, expect: number, run: () => ReturnType<TeamHttp['request']>) => {
    for (let attempt = 1; ; attempt++) {
      await pace();
      const a = await run();
      if (a.status === expect) return a;
      if (a.status !== 429 || attempt >= 10) throw new Error(`${what} answered ${a.status} (attempt ${attempt}): ${a.body.toString().slice(0, 200)}`);
      o.retries.add(`${what}: HTTP 429`);
      await sleep(1000 * (Number(a.headers['retry-after']) || 1));
    }
  };
  const workers = async (n: number, count: number, work: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => {
      while (next < count) await work(next++);
    }));
  };
  const itemIds: string[] = new Array(o.items);
  const statuses = ['todo', 'doing', 'done'];
  await workers(4, o.items, async (i) => {
    const body = JSON.stringify({ title: `Bench item ${i + 1}`, description: `Backup bench item ${i + 1}: what to do, who asked, and by when.`, status: statuses[i % 3] });
    const a = await send('create item', 201, () => team.http.request('POST', '/api/items', { ...api, 'content-type': 'application/json' }, body));
    itemIds[i] = (JSON.parse(a.body.toString()) as { item: { id: string } }).item.id;
  });
  const uploads: Upload[] = new Array(o.files.length);
  await workers(2, o.files.length, async (i) => {
    const bytes = randomBytes(o.files[i]!);
    const item = itemIds[i % itemIds.length]!;
    const a = await send('upload', 201, () => team.http.request('POST', `/api/items/${item}/attachments?name=bench-${i + 1}.bin`, { ...api, 'content-type': 'application/octet-stream' }, bytes, 120_000));
    const id = (JSON.parse(a.body.toString()) as { attachment: { id: string } }).attachment.id;
    uploads[i] = { item, id, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  return { itemIds, uploads };
}

export interface Sample {
  /** Wall clock (Date.now()) when the request was sent: compared with the API's event times. */
  at: number;
  ms: number;
  status: number;
  error?: string;
}

/**
 * A member reading the board (GET /api/items, as a reload does) one request
 * at a time, `pauseMs` after each answer: a person's browser waits for its
 * answer, so a freeze shows as one long request and a long gap, not as a
 * pile of requests the member would never have sent. Nothing is skipped.
 */
export function startReader(team: Team, pauseMs: number): { samples: Sample[]; stop: () => Promise<void> } {
  const member = team.members[0]!;
  const headers = { cookie: member.cookie, 'x-csrf-token': member.csrf, accept: 'application/json' };
  const samples: Sample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const at = Date.now();
      const t0 = performance.now();
      try {
        const a = await team.http.request('GET', '/api/items', headers, undefined, 120_000);
        samples.push({ at, ms: performance.now() - t0, status: a.status });
      } catch (err) {
        samples.push({ at, ms: performance.now() - t0, status: 0, error: reasonOf(err) });
      }
      await sleep(pauseMs);
    }
  })();
  return { samples, stop: async () => ((on = false), await loop) };
}

export interface ApiEvent {
  seq: number;
  at: string;
  type: string;
  operation?: string;
  data?: Record<string, unknown>;
}

/**
 * Follows GET /api/v1/events/stream?operation=ID (which replays what the
 * operation already did) until its end: every event of it, in order. A
 * stream that ends early is opened again, and counted in `retries`.
 */
export async function followOperation(base: string, token: string, id: string, retries: Tally, timeoutMs = 1_800_000): Promise<ApiEvent[]> {
  const seen = new Map<number, ApiEvent>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      const res = await fetch(`${base}/api/v1/events/stream?operation=${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
      if (res.status !== 200 || !res.body) throw new Error(`the event stream answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(0, end).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const e = JSON.parse(data) as ApiEvent;
          seen.set(e.seq, e);
          if (e.type === 'operation.succeeded' || e.type === 'operation.failed') return [...seen.values()].sort((a, b) => a.seq - b.seq);
        }
      }
      retries.add('event stream ended early: reopened');
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`operation ${id} did not end within ${timeoutMs / 1000} s`);
      retries.add(`event stream: ${reasonOf(err)}: reopened`);
    } finally {
      clearTimeout(timer);
    }
    await sleep(1000);
  }
}

/** Seconds from each step to the next (the last to the end): where an operation's time went. */
export function stepTimes(events: ApiEvent[]): string {
  const marks = events.filter((e) => e.type === 'operation.step' || e.type === 'operation.succeeded' || e.type === 'operation.failed');
  const out: string[] = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    out.push(`${String(marks[i]!.data?.step)} ${((Date.parse(marks[i + 1]!.at) - Date.parse(marks[i]!.at)) / 1000).toFixed(2)}`);
  }
  return out.join(', ');
}

/** When the first step of that name (or matching) began, as Date.now() would say; undefined if none. */
export function stepAt(events: ApiEvent[], step: string | RegExp): number | undefined {
  const e = events.find((x) => x.type === 'operation.step' && (typeof step === 'string' ? x.data?.step === step : step.test(String(x.data?.step))));
  return e ? Date.parse(e.at) : undefined;
}
