// The terminal WebSocket on the real engine: a shell in a running tenant's app
// container through docker exec under node-pty, for operator sessions only.
import t from 'tap';
import { authenticator } from 'otplib';
import WebSocket from 'ws';
import type { BerthEvent } from '../../src/events/event-bus.js';
import { names } from '../../src/names.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('term');
const { app, events, operators } = tp.platform;
const slug = testSlug('term');
const container = names.container(slug, 'app');
let base = '';
let session = '';
// A real listener: the close handshake and the pty's end go as they do for a browser.
try {
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
  const created = await tp.platform.tenants.create({ slug, plan: 'starter' });
  const end = await operationEnd(events, created.operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`tenant did not start: ${JSON.stringify(end.data)}`);
  // An operator, enrolled with a real code; the session is made directly (sign-in has its own tests).
  const made = await operators.operators.create({ email: 'term@example.org', name: 'Term' }, 'test');
  const setupToken = made.setupUrl.split('/setup/')[1]!;
  const { totpSecret } = await operators.operators.setupStart(setupToken);
  await operators.operators.setupFinish({ token: setupToken, password: 'a long passphrase 4 tests', code: authenticator.generate(totpSecret) });
  session = (await operators.sessions.create(made.operator.id)).session;
} catch (err) {
  await tp.close();
  throw err;
}
t.teardown(() => tp.close());

const seen: BerthEvent[] = [];
t.teardown(events.subscribe((e) => e.type.startsWith('terminal.') && seen.push(e)));

interface Terminal {
  ws: WebSocket;
  output(): string;
  closed: Promise<{ code: number; reason: string }>;
  send(message: object): void;
}

async function openTerminal(query: string, token = session, tenant = slug): Promise<Terminal> {
  const chunks: Buffer[] = [];
  const ws = new WebSocket(`${base}/api/v1/tenants/${tenant}/terminal?${query}`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (data: Buffer) => chunks.push(Buffer.from(data)));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`Unexpected server response: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, closed, output: () => Buffer.concat(chunks).toString('utf8'), send: (m) => ws.send(JSON.stringify(m)) };
}

/** host processes running docker exec into the container */
async function execClients(): Promise<string[]> {
  const ps = await new Promise<string>((resolve, reject) =>
    import('node:child_process').then(({ execFile }) => execFile('ps', ['-eo', 'pid=,args='], (err, out) => (err ? reject(err) : resolve(out))))
  );
  return ps.split('\n').filter((l) => l.includes('docker exec') && l.includes(container));
}

t.test('refused before the upgrade: API tokens (403), unknown service (400), bad size (400), unknown tenant (404)', async (t) => {
  await t.rejects(openTerminal('service=app', tp.token), /Unexpected server response: 403/);
  await t.rejects(openTerminal('service=nope'), /Unexpected server response: 400/);
  await t.rejects(openTerminal('service=app&cols=0'), /Unexpected server response: 400/);
  await t.rejects(openTerminal('service=app;rm'), /Unexpected server response: 400/);
  await t.rejects(openTerminal('service=app', session, 'tnobody-0000'), /Unexpected server response: 404/);
});

t.test('a shell in the app container: echo comes back, resize works, closing kills docker exec', async (t) => {
  const term = await openTerminal('service=app&cols=80&rows=24');
  term.send({ type: 'input', data: 'echo berth-$RANDOM\n' });
  const echoed = await until(() => /berth-(\d+)/.exec(term.output()), 20_000, 'the echoed berth-<digits>');
  t.match(echoed[0], /^berth-\d+$/, `read back ${echoed[0]}`);
  t.equal((await execClients()).length, 1, 'one docker exec client while open');

  term.send({ type: 'resize', cols: 101, rows: 33 });
  // The resize reaches the container's tty asynchronously (the docker CLI
  // under the pty gets SIGWINCH and calls the engine's exec resize), so a
  // `stty size` typed at once can run before it on a loaded host: ask again
  // until the new size shows, within the deadline.
  let asked = 0;
  await until(() => {
    if (/33 101/.test(term.output())) return true;
    term.send({ type: 'input', data: 'stty size\n' });
    asked++;
    return false;
  }, 10_000, 'stty size to show 33 101', 500);
  t.comment(`stty size asked ${asked} times`);
  t.pass('stty size shows the new size');

  term.ws.close();
  await until(async () => tp.platform.terminal.count() === 0 && (await execClients()).length === 0, 10_000, 'the pty and docker exec to end');
  t.pass('no docker exec client is left');
  // With stdin gone the shell in the container ends too.
  await until(async () => !(await docker('top', container, '-o', 'pid,args')).split('\n').some((l) => /\/bin\/sh$/.test(l.trim())), 10_000, 'the shell in the container to end');
  t.pass('no shell is left in the container');

  const entries = (await app.inject({ method: 'GET', url: `/api/v1/audit?tenant=${slug}`, headers: { authorization: `Bearer ${tp.token}` } })).json().entries as { action: string; result: string; actor: { name: string }; target: Record<string, string> }[];
  const terminalEntries = entries.filter((e) => e.action.startsWith('TERMINAL')).reverse();
  t.match(terminalEntries, [
    { action: 'TERMINAL OPEN /api/v1/tenants/:slug/terminal', result: 'ok', actor: { name: 'term@example.org' }, target: { tenant: slug, service: 'app' } },
    { action: 'TERMINAL CLOSE /api/v1/tenants/:slug/terminal', result: 'closed', actor: { name: 'term@example.org' }, target: { tenant: slug, service: 'app' } }
  ]);
  t.equal(terminalEntries[0]!.target.session, terminalEntries[1]!.target.session, 'open and close name the same session');
  await until(() => seen.some((e) => e.type === 'terminal.closed'), 5_000, 'terminal.closed');
  t.same(seen.map((e) => [e.type, e.tenant]), [['terminal.opened', slug], ['terminal.closed', slug]]);
});

t.test('the db image has no shell: a clear notice and close 4409', async (t) => {
  const term = await openTerminal('service=db');
  const closed = await term.closed;
  t.same(closed, { code: 4409, reason: 'SERVICE_HAS_NO_SHELL' });
  t.match(term.output(), /SERVICE_HAS_NO_SHELL: the db image has no \/bin\/sh/);
});
