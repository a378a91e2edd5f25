// A team's real load (issue 14 item 1; `berth capacity measure` runs it,
// and bench/scenarios/team-load.ts names it for the benches): its members use their workspace the
// way people do, through the platform's nginx like any visitor (127.0.0.1 and
// the team's Host header), over keep-alive HTTP:
// - the owner takes the one-time setup link, invites the others from the team
//   page, and each accepts the link the invitation gives (a session each);
// - every member keeps the board's live updates open (the app's event stream,
//   /api/events: what the board page listens to) and, paced by a think time,
//   reloads the board (If-None-Match, as the page does), creates, moves and
//   edits items, uploads an attachment and reads one back;
// - every request is timed by kind; every answer that is not the expected
//   status, and every failed connection, is counted as an error; each change
//   a member makes is timed until every other member's stream has it.
//
// Its rates are parameters. The defaults, and why:
// - 5 members: a small team, what the starter plan is for;
// - a think time of 3 s on average (exponential, so actions bunch and pause
//   like people's): someone working a board acts every few seconds; 5 members
//   make about 1.7 requests a second for the team;
// - the mix: 35 % board reloads, 15 % new items, 20 % moves, 15 % edits, 5 %
//   uploads, 10 % downloads: a board is read and rearranged far more often
//   than files change hands;
// - 256 KB attachments: a screenshot or a short document.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

export interface TeamLoadOptions {
  members: number;
  thinkMs: number;
  attachmentBytes: number;
  /** Weights of each action; they need not add up to 1. */
  mix: Record<Action, number>;
}

export const DEFAULT_LOAD: TeamLoadOptions = {
  members: 5,
  thinkMs: 3000,
  attachmentBytes: 256 * 1024,
  mix: { reload: 35, create: 15, move: 20, edit: 15, upload: 5, download: 10 }
};

export type Action = 'reload' | 'create' | 'move' | 'edit' | 'upload' | 'download';
/** Every kind of request the scenario times (the setup's too). */
export type Kind = Action | 'setup' | 'live';

export interface Team {
  slug: string;
  /** The owner's one-time setup link (the orchestrator's ownerSetupUrl). */
  setupUrl: string;
}

/** Where nginx listens and the domain teams are under. */
export interface Edge {
  port: number;
  baseDomain: string;
}

/** What a run saw: latencies in ms by kind, errors by kind and reason. */
export class LoadStats {
  readonly latencies = new Map<Kind, number[]>();
  readonly errors = new Map<string, number>();
  /** Per second since the start: requests and errors, for "latency over time". */
  readonly timeline: { at: number; kind: Kind; ms: number; ok: boolean }[] = [];
  private readonly t0 = performance.now();

  record(kind: Kind, ms: number, ok: boolean, reason?: string): void {
    if (ok) {
      const list = this.latencies.get(kind) ?? [];
      list.push(ms);
      this.latencies.set(kind, list);
    } else {
      const key = `${kind}: ${reason ?? 'failed'}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }
    this.timeline.push({ at: (performance.now() - this.t0) / 1000, kind, ms, ok });
  }

  /** Seconds since these stats began: the timeline's clock. */
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  /** Every request but the setup's and the live-update lags. */
  requests(): number[] {
    return [...this.latencies].filter(([k]) => k !== 'setup' && k !== 'live').flatMap(([, v]) => v);
  }
}

export const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One team's address through nginx: keep-alive, the team's Host header. */
class TeamHttp {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /**
   * @param origin the team's public origin, as its app knows it (its form
   * posts must come from there): taken from the link the platform issued,
   * e.g. http://acme.example.com, with no port when nginx serves on 80.
   */
  constructor(private readonly edge: Edge, readonly slug: string, readonly origin: string) {}

  request(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string, timeoutMs = 30_000): Promise<Answer> {
    return new Promise((resolve, reject) => {
      // A timer of its own, not the request's timeout option: that one listens on the socket, and a reused keep-alive socket collects a listener per request.
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => (clearTimeout(timer), reject(err));
      const req = http.request({
        host: '127.0.0.1', port: this.edge.port, method, path, agent: this.agent,
        headers: { host: `${this.slug}.${this.edge.baseDomain}`, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers }
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (clearTimeout(timer), resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  /** A form post as the app's pages send it (SvelteKit's enhance): the answer, and its type (success, redirect, failure). */
  async action(path: string, fields: Record<string, string>, cookie?: string): Promise<{ answer: Answer; type?: string }> {
    const answer = await this.request('POST', path, {
      'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-sveltekit-action': 'true', origin: this.origin,
      ...(cookie ? { cookie } : {})
    }, new URLSearchParams(fields).toString());
    try {
      return { answer, type: (JSON.parse(answer.body.toString()) as { type?: string }).type };
    } catch {
      return { answer };
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Member {
  email: string;
  cookie: string;
  csrf: string;
}

/** The session cookie a response set, as "berth_session=…". */
function sessionOf(answer: Answer): string | undefined {
  const set = answer.headers['set-cookie'] ?? [];
  const pair = set.find((c) => c.startsWith('berth_session='))?.split(';')[0];
  return pair && pair !== 'berth_session=' ? pair : undefined;
}

const PASSWORD = 'load-test-password-1';

/** Accepts a one-time link (the owner's setup or an invitation): a member with a session. */
async function accept(team: TeamHttp, link: string, name: string, email: string): Promise<Member> {
  const path = new URL(link).pathname;
  const { answer, type } = await team.action(path, { name, password: PASSWORD, confirm: PASSWORD });
  const cookie = sessionOf(answer);
  if (!cookie || type !== 'redirect') throw new Error(`${team.slug}: accepting ${path.slice(0, 20)}… answered ${answer.status} ${type ?? ''} ${answer.body.toString().slice(0, 200)}`);
  const session = await team.request('GET', '/api/session', { cookie, accept: 'application/json' });
  if (session.status !== 200) throw new Error(`${team.slug}: /api/session answered ${session.status}`);
  const { csrf } = JSON.parse(session.body.toString()) as { csrf: string };
  return { email, cookie, csrf };
}

/** The team made ready: the owner in, the others invited and in. */
export async function prepareTeam(edge: Edge, team: Team, options: TeamLoadOptions, stats: LoadStats): Promise<{ http: TeamHttp; members: Member[] }> {
  const client = new TeamHttp(edge, team.slug, new URL(team.setupUrl).origin);
  const t0 = performance.now();
  const owner = await accept(client, team.setupUrl, 'Owner', 'owner');
  const members = [owner];
  for (let i = 1; i < options.members; i++) {
    const email = `member${i}@load.example`;
    const invited = await client.action('/team?/invite', { email }, owner.cookie);
    // The action's data (devalue's encoding, a JSON text) holds the invitation's link; only its path is used.
    const link = invited.type === 'success' ? /"(https?:\/\/[^"]{1,200}\/welcome\/[A-Za-z0-9_-]{20,100})"/.exec(String((JSON.parse(invited.answer.body.toString()) as { data?: unknown }).data))?.[1] : undefined;
    if (!link) throw new Error(`${team.slug}: invite answered ${invited.answer.status} ${invited.type ?? ''} ${invited.answer.body.toString().slice(0, 200)}`);
    members.push(await accept(client, link, `Member ${i}`, email));
  }
  stats.record('setup', performance.now() - t0, true);
  return { http: client, members };
}

/**
 * A member's live updates: the app's event stream, kept open; calls `seen`
 * with each event's item id. `ready` resolves once the app says the stream is
 * connected (its first comment): changes made before that are not sent to it.
 */
function openStream(edge: Edge, slug: string, member: Member, seen: (itemId: string) => void, onError: (why: string) => void): { ready: Promise<void>; close: () => void } {
  let connected: () => void = () => {};
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const req = http.request({
    host: '127.0.0.1', port: edge.port, path: '/api/events', agent: false,
    headers: { host: `${slug}.${edge.baseDomain}`, cookie: member.cookie, accept: 'text/event-stream' }
  }, (res) => {
    if (res.statusCode !== 200) {
      onError(`stream answered ${res.statusCode}`);
      connected();
      res.resume();
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(': connected')) connected();
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        try {
          const event = JSON.parse(data.slice(6)) as { item?: { id?: string }; id?: string };
          const id = event.item?.id ?? event.id;
          if (typeof id === 'string') seen(id);
        } catch {
          // not an item event
        }
      }
    });
  });
  let closing = false;
  req.on('error', (err) => {
    connected();
    if (!closing) onError(`stream: ${err.message}`);
  });
  req.end();
  return {
    ready,
    close: () => {
      closing = true;
      req.destroy();
    }
  };
}

function pick(mix: Record<Action, number>): Action {
  const entries = Object.entries(mix) as [Action, number][];
  let r = Math.random() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [action, weight] of entries) {
    if ((r -= weight) < 0) return action;
  }
  return entries[0]![0];
}

const STATUSES = ['todo', 'doing', 'done'] as const;

/**
 * Runs the team's members until `stopAt` (performance.now()) or `signal`
 * aborts: each keeps its stream open and acts after each think time.
 * Resolves when all have stopped.
 */
export async function runTeam(edge: Edge, prepared: { http: TeamHttp; members: Member[] }, options: TeamLoadOptions, stats: LoadStats, stopAt: number, signal?: AbortSignal): Promise<void> {
  const { http: team, members } = prepared;
  const items: string[] = [];
  const attachments: { item: string; id: string }[] = [];
  /**
   * Changes waiting to reach every other member's stream, from when each was
   * asked for. A stream may have an event before its writer has the answer
   * (a new item's id comes with both), so arrivals are kept per item too.
   */
  const pending = new Map<string, { at: number; waiting: Set<string> }>();
  const arrivals = new Map<string, Map<string, number>>();
  const streams = members.map((m) => openStream(edge, team.slug, m, (id) => {
    const now = performance.now();
    const seen = arrivals.get(id) ?? new Map<string, number>();
    seen.set(m.email, now);
    arrivals.set(id, seen);
    const p = pending.get(id);
    if (!p || !p.waiting.delete(m.email)) return;
    if (p.waiting.size === 0) {
      stats.record('live', now - p.at, true);
      pending.delete(id);
    }
  }, (why) => stats.record('live', 0, false, why)));
  const changed = (id: string, by: Member, askedAt: number) => {
    const seen = arrivals.get(id);
    const others = members.filter((m) => m !== by);
    const waiting = new Set(others.filter((m) => (seen?.get(m.email) ?? -1) < askedAt).map((m) => m.email));
    if (waiting.size > 0) return void pending.set(id, { at: askedAt, waiting });
    stats.record('live', Math.max(...others.map((m) => seen!.get(m.email)!)) - askedAt, true);
  };

  const act = async (m: Member, action: Action): Promise<void> => {
    const api = { cookie: m.cookie, 'x-csrf-token': m.csrf, accept: 'application/json' };
    let t0 = 0;
    const timed = async (kind: Action, expect: number[], run: () => Promise<Answer>): Promise<Answer | undefined> => {
      t0 = performance.now();
      try {
        const a = await run();
        const ok = expect.includes(a.status);
        stats.record(kind, performance.now() - t0, ok, ok ? undefined : `HTTP ${a.status}`);
        return ok ? a : undefined;
      } catch (err) {
        stats.record(kind, performance.now() - t0, false, (err as Error).message.replace(/[0-9a-f]{8,}/g, '…').slice(0, 80));
        return undefined;
      }
    };
    const any = (xs: string[]) => xs[Math.floor(Math.random() * xs.length)];
    if (action === 'create' || items.length === 0) {
      const a = await timed('create', [201], () => team.request('POST', '/api/items', { ...api, 'content-type': 'application/json' }, JSON.stringify({ title: `Task ${randomBytes(3).toString('hex')}`, description: 'made by the load scenario', status: 'todo' })));
      const id = a && (JSON.parse(a.body.toString()) as { item: { id: string } }).item.id;
      if (id) {
        items.push(id);
        changed(id, m, t0);
      }
      return;
    }
    const item = any(items)!;
    switch (action) {
      case 'reload':
        await timed('reload', [200, 304], () => team.request('GET', '/api/items', api));
        return;
      case 'move':
        if (await timed('move', [200], () => team.request('PATCH', `/api/items/${item}`, { ...api, 'content-type': 'application/json' }, JSON.stringify({ status: STATUSES[Math.floor(Math.random() * 3)], index: 0 })))) changed(item, m, t0);
        return;
      case 'edit':
        if (await timed('edit', [200], () => team.request('PATCH', `/api/items/${item}`, { ...api, 'content-type': 'application/json' }, JSON.stringify({ title: `Task ${randomBytes(3).toString('hex')} (edited)` })))) changed(item, m, t0);
        return;
      case 'upload': {
        const a = await timed('upload', [201], () => team.request('POST', `/api/items/${item}/attachments?name=note.bin`, { ...api, 'content-type': 'application/octet-stream' }, randomBytes(options.attachmentBytes)));
        const id = a && (JSON.parse(a.body.toString()) as { attachment: { id: string } }).attachment.id;
        if (id) attachments.push({ item, id });
        return;
      }
      case 'download': {
        const att = attachments[Math.floor(Math.random() * attachments.length)];
        if (!att) return act(m, 'upload');
        await timed('download', [200], () => team.request('GET', `/api/items/${att.item}/attachments/${att.id}`, { cookie: m.cookie }));
        return;
      }
      default:
        return;
    }
  };

  const memberLoop = async (m: Member) => {
    for (;;) {
      const think = -Math.log(1 - Math.random()) * options.thinkMs;
      if (performance.now() + think >= stopAt || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, think);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
      if (signal?.aborted) return;
      await act(m, pick(options.mix));
    }
  };
  try {
    const aborted = new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));
    await Promise.race([Promise.all(streams.map((s) => s.ready)), aborted]);
    await Promise.all(members.map(memberLoop));
    if (signal?.aborted) return;
    // Changes made in the last moments get a little time to arrive; any still missing then is an error.
    const deadline = performance.now() + 5000;
    while (pending.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [, p] of pending) stats.record('live', performance.now() - p.at, false, `a change did not reach ${p.waiting.size} member(s) within 5 s`);
  } finally {
    for (const s of streams) s.close();
    team.close();
  }
}
