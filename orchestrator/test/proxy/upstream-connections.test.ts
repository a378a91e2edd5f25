// The drain's count of open connections to a port, against real sockets on
// 127.0.0.1: every open client connection counts, a closed one (TIME_WAIT)
// does not, another port's do not, and waitDrained ends only after the last
// one closed and stayed closed for its quiet period.
import net from 'node:net';
import t from 'tap';
import { connectionsTo, waitDrained } from '../../src/proxy/upstream-connections.js';

async function listen(): Promise<{ server: net.Server; port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

const connect = (port: number) => new Promise<net.Socket>((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => resolve(s));
  s.on('error', reject);
});

t.test('counts the open connections to one port and nothing else', async (t) => {
  const a = await listen();
  const b = await listen();
  t.teardown(() => { a.server.close(); b.server.close(); });
  t.equal(await connectionsTo(a.port), 0, 'none before');
  const clients = await Promise.all([connect(a.port), connect(a.port), connect(a.port)]);
  const other = await connect(b.port);
  t.equal(await connectionsTo(a.port), 3, 'three clients of a');
  t.equal(await connectionsTo(b.port), 1, "b's own client only");
  // Closed by the client first: its side goes to TIME_WAIT, which is not open.
  for (const c of clients) c.destroy();
  other.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(await connectionsTo(a.port), 0, 'closed connections (TIME_WAIT) do not count');
});

t.test('waitDrained ends once the last connection closed and stayed closed for the quiet period', async (t) => {
  const a = await listen();
  t.teardown(() => a.server.close());
  const client = await connect(a.port);
  const started = Date.now();
  setTimeout(() => client.destroy(), 400);
  const result = await waitDrained(a.port, { timeoutMs: 5000, quietMs: 200, intervalMs: 20 });
  t.ok(result.drained, 'drained');
  t.ok(Date.now() - started >= 600, `not before close (400 ms) + quiet (200 ms): ${Date.now() - started} ms`);

  const held = await connect(a.port);
  t.teardown(() => held.destroy());
  const late = await waitDrained(a.port, { timeoutMs: 300, quietMs: 100, intervalMs: 20 });
  t.same({ drained: late.drained, open: late.open }, { drained: false, open: 1 }, 'at the deadline, with the connection still open');
});

t.test('a value that is not a port is refused before anything runs', async (t) => {
  for (const bad of [0, 65_536, 1.5, Number.NaN, -1]) t.throws(() => connectionsTo(bad), { code: 'INTERNAL' }, String(bad));
});
