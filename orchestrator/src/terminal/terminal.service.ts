// Console terminals: `docker exec -it <container> /bin/sh` under a
// pseudo-terminal, bridged to a WebSocket. The container name comes from the
// tenant's rendered stack for a service name the stack has, and goes to docker
// as one argv element: no shell ever parses input. A session ends when the
// socket closes (the pty is killed), when the shell exits, or after idle time
// without input; opening and closing are audited and published as events.
import { randomBytes } from 'node:crypto';
import type { AuditRepository } from '../audit/audit.repository.js';
import type { Principal } from '../auth/auth.types.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Pty, PtySpawn } from './pty.js';
import { notice, parseClientMessage } from './terminal.protocol.js';

/** The slice of a ws WebSocket a session uses. */
export interface TerminalSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Buffer, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export interface TerminalDeps {
  runtime: ContainerRuntime;
  /** The container of a tenant's service (404 / 400 naming the services otherwise). */
  containerOf(slug: string, service: string): Promise<string>;
  audit: AuditRepository;
  events: EventBus;
  log: Logger;
  spawn: PtySpawn;
  idleMs: number;
  dockerSocket: string;
  /** HOME for the docker CLI (it looks for its config there); never the orchestrator's environment. */
  home: string;
  dockerBin?: string;
  /** Audit times and session lengths (tests move it). */
  clock?: () => Date;
}

export interface OpenRequest {
  slug: string;
  service: string;
  container: string;
  cols: number;
  rows: number;
  principal: Principal;
  ip: string;
}

const ACTION = 'TERMINAL %s /api/v1/tenants/:slug/terminal';
const OPEN = 1;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;
const KILL_GRACE_MS = 3000;
/**
 * Docker quirk (moby/moby#9098): ending `docker exec` (the client) leaves the
 * process it started running in the container; with a TTY it does not even
 * see EOF. So every terminal's shell carries BERTH_TERMINAL=<session> in its
 * environment (its children inherit it), and at the end this script, run
 * through the runtime port, signals every process that has it. The session id
 * and signal are passed as arguments ($1, $2), never spliced into the script.
 */
const REAP_SCRIPT = 'for d in /proc/[0-9]*; do tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qx "BERTH_TERMINAL=$1" && kill -"$2" "${d#/proc/}" 2>/dev/null; done; exit 0';

export class TerminalService {
  private readonly live = new Map<string, { pty: Pty; exited: Promise<void>; socket: TerminalSocket; tenant: string }>();
  private readonly reaping = new Set<Promise<void>>();

  private readonly clock: () => Date;

  constructor(private readonly d: TerminalDeps) {
    this.clock = d.clock ?? (() => new Date());
  }

  /** Before the upgrade: the container, which must be running. */
  async prepare(slug: string, service: string): Promise<string> {
    const container = await this.d.containerOf(slug, service);
    const info = await this.d.runtime.inspectContainer(container);
    if (!info?.running) throw new BerthError('SERVICE_NOT_RUNNING', `service ${service} of tenant ${slug} is not running; start the tenant first`);
    return container;
  }

  /** How many terminals are open (tests, metrics). */
  count(): number {
    return this.live.size;
  }

  /** Whether an operator has a terminal open into this team (an open terminal keeps a team awake). */
  openFor(slug: string): boolean {
    for (const session of this.live.values()) if (session.tenant === slug) return true;
    return false;
  }

  /** Runs one session on an upgraded socket until it ends. Never throws: failures become a notice and a close code. */
  async open(socket: TerminalSocket, req: OpenRequest): Promise<void> {
    const session = randomBytes(6).toString('hex');
    const actor = { tokenId: req.principal.tokenId, name: req.principal.name };
    const target = { tenant: req.slug, service: req.service, session };
    const audit = (what: 'OPEN' | 'CLOSE', status: number, result: string) =>
      this.d.audit
        .record({ at: this.clock(), actor, action: ACTION.replace('%s', what), target, status, result, ip: req.ip })
        .catch((err: unknown) => this.d.log.warn({ err: (err as Error).message, session }, 'terminal audit entry not written'));

    // Listen at once: what the client sends while the shell is being checked (a first resize) is kept, not lost.
    type Frame = [Buffer | ArrayBuffer | Buffer[], boolean];
    const early: Frame[] = [];
    let onFrame: ((raw: Frame[0], isBinary: boolean) => void) | undefined;
    socket.on('message', (raw, isBinary) => (onFrame ? onFrame(raw, isBinary) : early.push([raw, isBinary])));

    const refused = await this.shellProblem(req.container, req.service);
    if (refused) {
      await audit('OPEN', refused.status, refused.code);
      if (socket.readyState === OPEN) {
        socket.send(notice(`${refused.code}: ${refused.message}`));
        socket.close(4000 + refused.status, refused.code);
      }
      return;
    }
    if (socket.readyState !== OPEN) return; // the client left while we checked

    const pty = this.d.spawn(this.d.dockerBin ?? 'docker', ['exec', '-it', '-e', 'TERM=xterm-256color', '-e', `BERTH_TERMINAL=${session}`, '--', req.container, '/bin/sh'], {
      cols: req.cols,
      rows: req.rows,
      env: { PATH, HOME: this.d.home, DOCKER_HOST: `unix://${this.d.dockerSocket}`, TERM: 'xterm-256color', LANG: 'C.UTF-8' }
    });
    const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
    this.live.set(session, { pty, exited, socket, tenant: req.slug });
    // From the readyState check to the close listener below nothing awaits, so a close cannot slip between.
    void audit('OPEN', 101, 'ok');
    void this.d.events.publish({ type: 'terminal.opened', tenant: req.slug, data: { service: req.service, session, operator: req.principal.name } });
    this.d.log.info({ session, tenant: req.slug, service: req.service, operator: req.principal.name, pid: pty.pid }, 'terminal opened');

    const openedAt = this.clock().getTime();
    let ended = false;
    let idle: NodeJS.Timeout | undefined;
    const end = (code: number, reason: string, text?: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      if (socket.readyState === OPEN) {
        if (text) socket.send(notice(text));
        socket.close(code, reason);
      }
      this.kill(pty, exited);
      void exited.then(() => this.live.delete(session));
      this.reap(req.container, session);
      void audit('CLOSE', code, reason);
      void this.d.events.publish({ type: 'terminal.closed', tenant: req.slug, data: { service: req.service, session, reason, seconds: Math.round((this.clock().getTime() - openedAt) / 1000) } });
      this.d.log.info({ session, tenant: req.slug, reason }, 'terminal closed');
    };
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => end(4408, 'TERMINAL_IDLE', `closed after ${Math.round(this.d.idleMs / 1000)} s without input`), this.d.idleMs);
    };
    touch();

    let paused = false;
    pty.onData((data) => {
      if (socket.readyState !== OPEN) return;
      socket.send(Buffer.from(data, 'utf8'), () => {
        if (paused && socket.bufferedAmount < LOW_WATER) {
          paused = false;
          pty.resume();
        }
      });
      // A slow client must not make us buffer without bound: hold the shell until it catches up.
      if (!paused && socket.bufferedAmount > HIGH_WATER) {
        paused = true;
        pty.pause();
      }
    });
    pty.onExit(({ exitCode }) => end(1000, exitCode === 0 ? 'exited' : `exited ${exitCode}`, `shell exited (code ${exitCode})`));
    onFrame = (raw, isBinary) => {
      const message = isBinary ? { invalid: 'binary frames are not accepted' } : parseClientMessage(Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw));
      if ('invalid' in message) {
        this.d.log.debug({ session, why: message.invalid }, 'terminal message ignored');
        return;
      }
      touch();
      if (message.type === 'input') pty.write(message.data);
      else pty.resize(message.cols, message.rows);
    };
    for (const [raw, isBinary] of early.splice(0)) onFrame(raw, isBinary);
    socket.on('close', () => end(1000, 'closed'));
  }

  /** Closes every terminal and waits for their ptys to end (platform shutdown). */
  async close(): Promise<void> {
    const all = [...this.live.values()];
    for (const { socket } of all) if (socket.readyState === OPEN) socket.close(1001, 'orchestrator shutting down');
    for (const { pty, exited } of all) this.kill(pty, exited);
    await Promise.all(all.map((s) => s.exited));
    await Promise.allSettled([...this.reaping]);
  }

  /** Ends what the session left running in the container: SIGHUP, then SIGKILL for what is still there. */
  private reap(container: string, session: string): void {
    const signal = (name: 'HUP' | 'KILL') => this.d.runtime.exec(container, ['/bin/sh', '-c', REAP_SCRIPT, 'berth-reap', session, name], 10_000);
    const work = signal('HUP')
      .then(() => new Promise((r) => setTimeout(r, KILL_GRACE_MS)))
      .then(() => signal('KILL'))
      .then(
        () => undefined,
        (err: unknown) => this.d.log.warn({ session, container, err: (err as Error).message }, 'terminal processes in the container not ended')
      );
    this.reaping.add(work);
    void work.finally(() => this.reaping.delete(work));
  }

  /** SIGHUP as a closing terminal would, then SIGKILL if docker exec does not go. */
  private kill(pty: Pty, exited: Promise<void>): void {
    try {
      pty.kill('SIGHUP');
    } catch (err) {
      this.d.log.debug({ err: (err as Error).message }, 'pty already gone');
      return;
    }
    const timer = setTimeout(() => {
      try {
        pty.kill('SIGKILL');
      } catch {
        // gone between the check and the kill: what we wanted
      }
    }, KILL_GRACE_MS);
    void exited.then(() => clearTimeout(timer));
  }

  /** Whether /bin/sh can start in the container; db and storage images have none. */
  private async shellProblem(container: string, service: string): Promise<{ code: string; status: number; message: string } | null> {
    try {
      const probe = await this.d.runtime.exec(container, ['/bin/sh', '-c', 'exit 0'], 10_000);
      if (probe.exitCode === 0) return null;
      if (/no such file|not found|executable file/i.test(probe.output) || probe.exitCode === 126 || probe.exitCode === 127) {
        return { code: 'SERVICE_HAS_NO_SHELL', status: 409, message: `the ${service} image has no /bin/sh, so it cannot have a terminal` };
      }
      return { code: 'RUNTIME_ERROR', status: 500, message: `/bin/sh in ${service} failed (exit ${probe.exitCode}): ${probe.output.trim().slice(0, 200)}` };
    } catch (err) {
      const e = err instanceof BerthError ? err : new BerthError('RUNTIME_ERROR', (err as Error).message);
      return { code: e.code, status: e.status, message: e.message };
    }
  }
}
