// Two tenants cannot reach each other (proved from inside a container), and a
// container killed behind Berth's back is healed by the health monitor.
import t from 'tap';
import { names } from '../../src/names.js';
import { docker, runtime, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('iso', { health: { intervalMs: 200, failuresBeforeDegraded: 2 } });
t.teardown(() => tp.close());
const { tenants, events, monitor, repo } = tp.platform;
const a = testSlug('isoa');
const b = testSlug('isob');

for (const slug of [a, b]) {
  const { operation } = await tenants.create({ slug });
  const end = await operationEnd(events, operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`setup: ${slug} failed: ${JSON.stringify(end.data)}`);
}

async function ipOf(container: string, network: string): Promise<string> {
  return docker('inspect', container, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`);
}

/** Tries a TCP connection from inside `from`; "open" or the error code. */
async function connectFrom(from: string, host: string, port: number): Promise<string> {
  const script = `const s=require('net').connect(${port},'${host}');s.setTimeout(1500);s.on('connect',()=>{console.log('open');process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
  const { output } = await runtime.exec(from, ['node', '-e', script], 10_000);
  return output.trim();
}

t.test('tenant A cannot reach tenant B\'s app, database or storage', async (t) => {
  const fromA = names.container(a, 'app');
  // The method works: A reaches its own database by address.
  t.equal(await connectFrom(fromA, await ipOf(names.container(a, 'db'), names.internalNetwork(a)), 27017), 'open', 'control: own db reachable');
  const targets: [string, string, number][] = [
    [names.container(b, 'db'), names.internalNetwork(b), 27017],
    [names.container(b, 'storage'), names.internalNetwork(b), 9000],
    [names.container(b, 'app'), names.internalNetwork(b), 3000],
    [names.container(b, 'app'), names.edgeNetwork(b), 3000]
  ];
  for (const [container, network, port] of targets) {
    const ip = await ipOf(container, network);
    t.not(await connectFrom(fromA, ip, port), 'open', `${container} on ${network} (${ip}:${port}) unreachable from ${a}`);
  }
  t.not(await connectFrom(fromA, 'db', 27017), 'timeout', 'the alias "db" is A\'s own');
});

t.test('data services publish nothing and have no route out', async (t) => {
  t.equal(await docker('port', names.container(b, 'db')), '');
  t.equal(await docker('port', names.container(b, 'storage')), '');
  t.equal(await docker('network', 'inspect', names.internalNetwork(b), '--format', '{{.Internal}}'), 'true');
});

t.test('a container killed behind Berth\'s back: degraded, restarted, running again', async (t) => {
  await docker('kill', names.container(a, 'db'));
  const degraded = await until(async () => {
    await monitor.checkAll();
    const doc = await repo.get(a);
    return doc?.phase === 'degraded' || doc?.operation?.kind === 'heal' ? doc : undefined;
  }, 30_000, 'degraded');
  t.equal(degraded.health?.failing, 'db', 'the failing service is named');
  const healed = await until(async () => {
    await tenants.settled();
    await monitor.checkAll();
    const doc = await repo.get(a);
    return doc?.phase === 'running' && !doc.operation ? doc : undefined;
  }, 90_000, 'running again');
  t.equal(healed.phase, 'running');
  t.equal(await docker('inspect', names.container(a, 'db'), '--format', '{{.State.Running}}'), 'true');
  const history = await events.history({ tenant: a }, 500);
  const types = history.map((e) => e.type);
  t.ok(types.includes('health.check_failed'));
  t.ok(types.includes('health.restart'));
  const phases = history.filter((e) => e.type === 'tenant.phase').map((e) => e.data?.to);
  t.same(phases.slice(-2), ['degraded', 'running'], 'both transitions are in the history');
  t.equal((await repo.get(b))?.phase, 'running', 'the other tenant was never touched');
});
