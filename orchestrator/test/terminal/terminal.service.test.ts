// The terminal session logic with a fake pty, socket and runtime: what is
// forwarded, what is refused, how a session ends and what it leaves behind.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { AuditEntry, AuditRepository } from '../../src/audit/audit.repository.js';
import type { EventBus, EventInput } from '../../src/events/event-bus.js';
import { silentLogger } from '../../src/log.js';
import type { ContainerRuntime, ExecResult } from '../../src/runtime/types.js';
import type { Pty, PtyOptions } from '../../src/terminal/pty.js';
import { parseClientMessage } from '../../src/terminal/terminal.protocol.js';
import { TerminalService, type TerminalSocket } from '../../src/terminal/terminal.service.js';
import { names } from '../../src/names.js';

class FakeSocket extends EventEmitter implements TerminalSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: (string | Buffer)[] = [];
  closed?: { code?: number; reason?: string };
  send(data: string | Buffer, cb?: (err?: Error) => void) {
    this.sent.push(data);
    cb?.();
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
    this.readyState = 3;
    setImmediate(() => this.emit('close'));
  }
  client(message: object) {
    this.emit('message', Buffer.from(JSON.stringify(message)), false);
  }
  text() {
    return this.sent.filter((s): s is string => typeof s === 'string').join('');
  }
}

class FakePty implements Pty {
  pid = 4242;
  written: string[] = [];
  sizes: [number, number][] = [];
  signals: string[] = [];
  private readonly bus = new EventEmitter();
  onData(l: (d: string) => void) { this.bus.on('data', l); }
  onExit(l: (e: { exitCode: number }) => void) { this.bus.on('exit', l); }
  write(d: string) { this.written.push(d); }
  resize(c: number, r: number) { this.sizes.push([c, r]); }
  pause() {}
  resume() {}
  kill(signal = 'SIGHUP') {
    this.signals.push(signal);
    setImmediate(() => this.bus.emit('exit', { exitCode: 129 }));
  }
  output(d: string) { this.bus.emit('data', d); }
}

function harness(opts: { idleMs?: number; shell?: ExecResult; shellDelayMs?: number; clock?: () => Date } = {}) {
  const audit: AuditEntry[] = [];
  const events: EventInput[] = [];
  const spawned: { file: string; argv: string[]; options: PtyOptions; pty: FakePty }[] = [];
  const execs: string[][] = [];
  const runtime = {
    exec: async (_container: string, argv: string[]) => {
      execs.push(argv);
      await new Promise((r) => setTimeout(r, opts.shellDelayMs ?? 0));
      return opts.shell ?? { exitCode: 0, output: '' };
    },
    inspectContainer: async () => ({ running: true })
  } as unknown as ContainerRuntime;
  const service = new TerminalService({
    runtime,
    containerOf: async (slug, service) => names.container(slug, service),
    audit: { record: async (e: AuditEntry) => void audit.push(e) } as unknown as AuditRepository,
    events: { publish: async (e: EventInput) => void events.push(e) } as unknown as EventBus,
    log: silentLogger,
    spawn: (file, argv, options) => {
      const pty = new FakePty();
      spawned.push({ file, argv, options, pty });
      return pty;
    },
    idleMs: opts.idleMs ?? 60_000,
    dockerSocket: '/run/docker.sock',
    home: '/var/lib/berth',
    clock: opts.clock
  });
  const request = { slug: 'acme', service: 'app', container: names.container('acme', 'app'), cols: 80, rows: 24, principal: { kind: 'operator' as const, operatorId: 'op1', name: 'ada@example.org', scope: 'admin' as const, tokenId: 'session:abcd1234' }, ip: '127.0.0.1' };
  return { service, audit, events, spawned, execs, request };
}

const tick = () => new Promise((r) => setImmediate(r));

t.test('fake pty and socket: spawns docker exec with an argv array and a clean environment; forwards output, input and resize', async (t) => {
  const h = harness({ shellDelayMs: 20 });
  const socket = new FakeSocket();
  const opened = h.service.open(socket, h.request);
  socket.client({ type: 'resize', cols: 120, rows: 40 }); // sent before the shell check ends: kept
  await opened;
  const [{ file, argv, options, pty }] = h.spawned;
  t.equal(file, 'docker');
  const session = h.audit[0]!.target.session!;
  t.same(argv, ['exec', '-it', '-e', 'TERM=xterm-256color', '-e', `BERTH_TERMINAL=${session}`, '--', 'berth.acme.app', '/bin/sh']);
  t.same(Object.keys(options.env).sort(), ['DOCKER_HOST', 'HOME', 'LANG', 'PATH', 'TERM'], 'nothing inherited from the orchestrator');
  t.equal(options.env.DOCKER_HOST, 'unix:///run/docker.sock');
  t.same(pty.sizes, [[120, 40]], 'the early resize arrived');

  pty.output('hello');
  t.same(socket.sent.at(-1), Buffer.from('hello'), 'output goes out as binary');
  socket.client({ type: 'input', data: 'ls\n' });
  socket.client({ type: 'resize', cols: 9999, rows: 40 });
  socket.client({ type: 'resize', cols: 80.5, rows: 40 });
  socket.emit('message', Buffer.from('not json'), false);
  socket.emit('message', Buffer.from('{"type":"input","data":"x"}'), true);
  socket.client({ type: 'exec', data: 'rm -rf /' });
  t.same(pty.written, ['ls\n'], 'only well-formed input reaches the shell');
  t.same(pty.sizes, [[120, 40]], 'out-of-range resizes are ignored');
  t.equal(h.service.count(), 1);

  socket.emit('close');
  await tick();
  await tick();
  t.same(pty.signals, ['SIGHUP'], 'closing the socket kills the pty');
  const reap = h.execs.at(-1)!;
  t.same(reap.slice(0, 2), ['/bin/sh', '-c']);
  t.same(reap.slice(3), ['berth-reap', session, 'HUP'], 'and its processes in the container, by session id passed as an argument');
  await h.service.close();
  t.same(h.execs.at(-1)!.slice(3), ['berth-reap', session, 'KILL'], 'then SIGKILL for survivors');
  t.equal(h.service.count(), 0);
  t.same(h.audit.map((e) => [e.action, e.result, e.actor?.name, e.target.tenant, e.target.service]), [
    ['TERMINAL OPEN /api/v1/tenants/:slug/terminal', 'ok', 'ada@example.org', 'acme', 'app'],
    ['TERMINAL CLOSE /api/v1/tenants/:slug/terminal', 'closed', 'ada@example.org', 'acme', 'app']
  ]);
  t.same(h.events.map((e) => e.type), ['terminal.opened', 'terminal.closed']);
});

t.test('fake pty and socket: idle time without input ends the session with a notice and code 4408', async (t) => {
  const h = harness({ idleMs: 60 });
  const socket = new FakeSocket();
  await h.service.open(socket, h.request);
  await new Promise((r) => setTimeout(r, 40));
  socket.client({ type: 'input', data: 'x' }); // input resets the idle timer
  await new Promise((r) => setTimeout(r, 40));
  t.notOk(socket.closed, 'still open: input came within the idle time');
  await new Promise((r) => setTimeout(r, 80));
  t.same(socket.closed, { code: 4408, reason: 'TERMINAL_IDLE' });
  t.match(socket.text(), /\[berth\] closed after 0 s without input/);
  t.same(h.spawned[0]!.pty.signals, ['SIGHUP']);
  t.equal(h.audit.at(-1)?.result, 'TERMINAL_IDLE');
});

t.test('fake pty and socket: no /bin/sh in the image: a clear notice, close 4409 SERVICE_HAS_NO_SHELL, nothing spawned', async (t) => {
  const h = harness({ shell: { exitCode: 126, output: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown' } });
  const socket = new FakeSocket();
  await h.service.open(socket, { ...h.request, service: 'db', container: names.container('acme', 'db') });
  t.same(socket.closed, { code: 4409, reason: 'SERVICE_HAS_NO_SHELL' });
  t.match(socket.text(), /SERVICE_HAS_NO_SHELL: the db image has no \/bin\/sh/);
  t.equal(h.spawned.length, 0);
  t.same(h.audit.map((e) => [e.action, e.result]), [['TERMINAL OPEN /api/v1/tenants/:slug/terminal', 'SERVICE_HAS_NO_SHELL']]);
});

t.test('fake pty and socket: the shell exiting closes the socket (1000)', async (t) => {
  const h = harness();
  const socket = new FakeSocket();
  await h.service.open(socket, h.request);
  h.spawned[0]!.pty.kill('SIGTERM'); // stands in for "exit" typed in the shell
  await tick();
  t.same(socket.closed, { code: 1000, reason: 'exited 129' });
});

t.test('fake pty and socket, a test clock: audit times and the session length come from the injected clock', async (t) => {
  let now = Date.parse('2031-03-04T05:06:00Z');
  const h = harness({ clock: () => new Date(now) });
  const socket = new FakeSocket();
  await h.service.open(socket, h.request);
  now += 90_000;
  socket.emit('close');
  await tick();
  t.same(h.audit.map((e) => [e.action.split(' ')[1], e.at.toISOString()]), [['OPEN', '2031-03-04T05:06:00.000Z'], ['CLOSE', '2031-03-04T05:07:30.000Z']]);
  t.equal(h.events.find((e) => e.type === 'terminal.closed')?.data?.seconds, 90, 'the session lasted 90 s by the clock');
});

t.test('fake pty and socket: message parsing', async (t) => {
  t.same(parseClientMessage('{"type":"input","data":"a"}'), { type: 'input', data: 'a' });
  t.same(parseClientMessage('{"type":"resize","cols":500,"rows":200}'), { type: 'resize', cols: 500, rows: 200 });
  t.match(parseClientMessage('{"type":"resize","cols":0,"rows":10}'), { invalid: /cols 1-500/ });
  t.match(parseClientMessage(JSON.stringify({ type: 'input', data: 'x'.repeat(70_000) })), { invalid: /at most/ });
  t.match(parseClientMessage('null'), { invalid: /type must be/ });
});
