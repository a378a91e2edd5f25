// The containers behind the tenant list (tenants/live-containers.ts): passes
// share one Docker list call, a read never waits on Docker once a snapshot
// exists, an event about a team lists that team again before the next read,
// and an answer older than what is kept never replaces it.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { BerthEvent } from '../../src/events/event.schema.js';
import { LABEL } from '../../src/runtime/labels.js';
import type { ContainerRuntime, ContainerSummary, Labels } from '../../src/runtime/types.js';
import { LiveContainers } from '../../src/tenants/live-containers.js';
import { docker, runtime } from '../helpers/docker.js';

const platform = `live-${randomBytes(3).toString('hex')}`;

/** The real runtime, counting its list calls. */
function counted(): { runtime: ContainerRuntime; calls: Labels[] } {
  const calls: Labels[] = [];
  const wrapped = Object.create(runtime) as ContainerRuntime;
  wrapped.listContainers = (labels: Labels) => {
    calls.push(labels);
    return runtime.listContainers(labels);
  };
  return { runtime: wrapped, calls };
}

async function make(tenant: string, service: string): Promise<string> {
  const name = `${platform}-${tenant}-${service}`;
  await docker('create', '--name', name, '--label', `${LABEL.platform}=${platform}`, '--label', `${LABEL.tenant}=${tenant}`,
    '--label', `${LABEL.service}=${service}`, '--label', `${LABEL.managed}=true`, 'berth/node-base:20', 'sleep', '600');
  return name;
}

t.teardown(async () => {
  const ids = (await docker('ps', '-aq', '--filter', `label=${LABEL.platform}=${platform}`)).split('\n').filter(Boolean);
  if (ids.length > 0) await docker('rm', '-f', ...ids);
});

function bus() {
  const emitter = new EventEmitter();
  let seq = 0;
  return {
    subscribe: (listener: (e: BerthEvent) => void) => {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    publish: (type: string, tenant: string) => emitter.emit('event', { seq: ++seq, at: new Date().toISOString(), type, tenant })
  };
}

t.test('against the real engine', async (t) => {
  await make('alpha', 'app');
  await make('alpha', 'db');
  const betaApp = await make('beta', 'app');
  const { runtime: rt, calls } = counted();
  let now = 0;
  const live = new LiveContainers(rt, { platformId: platform, maxAgeMs: 1000, now: () => now });

  t.test('three passes that ask at once share one Docker list call', async (t) => {
    const [a, b, c] = await Promise.all([live.refresh(), live.refresh(), live.refresh()]);
    t.equal(calls.length, 1, 'one call');
    t.equal(a.length, 3);
    t.equal(b, a);
    t.equal(c, a);
  });

  t.test('a read within the age answers from the snapshot, without calling Docker', async (t) => {
    calls.length = 0;
    const byTenant = await live.byTenant();
    t.equal(calls.length, 0);
    t.same([...byTenant.keys()].sort(), ['alpha', 'beta']);
    t.same(byTenant.get('alpha')!.map((c) => c.labels[LABEL.service]).sort(), ['app', 'db']);
  });

  t.test('an event about a team lists that team again, and the next read shows it', async (t) => {
    calls.length = 0;
    await docker('start', betaApp);
    const events = bus();
    const stop = live.follow(events.subscribe, (slug, err) => t.fail(`${slug}: ${err.message}`));
    t.teardown(stop);
    events.publish('tenant.stats', 'beta'); // not a change of containers
    t.equal(calls.length, 0, 'stats samples list nothing');
    events.publish('operation.step', 'beta');
    const byTenant = await live.byTenant();
    t.same(calls, [{ [LABEL.platform]: platform, [LABEL.tenant]: 'beta' }], 'one call, for that team only');
    t.equal(byTenant.get('beta')![0]!.state, 'running');
    t.equal(byTenant.get('alpha')!.length, 2, 'the other team is as it was');
  });

  t.test('a team whose containers are gone leaves the list', async (t) => {
    await docker('rm', '-f', betaApp);
    await live.listTenant('beta');
    t.notOk((await live.byTenant()).has('beta'));
  });

  t.test('past its age a read answers at once and refreshes in the background', async (t) => {
    await make('gamma', 'app');
    calls.length = 0;
    now += 1001;
    const first = await live.byTenant();
    t.notOk(first.has('gamma'), 'answered from the old snapshot');
    t.equal(calls.length, 1, 'and started a list call');
    await live.refresh();
    t.ok((await live.byTenant()).has('gamma'), 'the next read has the new container');
  });
});

t.test('an answer older than the kept one never replaces it (stand-in runtime: the race needs a list call held open)', async (t) => {
  const summary = (tenant: string, state: ContainerSummary['state']): ContainerSummary => ({
    id: tenant, name: tenant, image: 'x', state, labels: { [LABEL.tenant]: tenant }
  });
  let release: (list: ContainerSummary[]) => void = () => {};
  let tenantState: ContainerSummary['state'] = 'running';
  const standIn = {
    listContainers: (labels: Labels) => labels[LABEL.tenant]
      ? Promise.resolve([summary('alpha', tenantState)])
      : new Promise<ContainerSummary[]>((resolve) => (release = resolve))
  } as unknown as ContainerRuntime;
  let now = 0;
  const live = new LiveContainers(standIn, { platformId: 'p', maxAgeMs: 10_000, now: () => now++ });
  const whole = live.refresh(); // begins at 0 and is held open
  tenantState = 'exited';
  await live.listTenant('alpha'); // begins later: the newer answer
  release([summary('alpha', 'running')]); // what the whole list saw when it began
  await whole;
  t.equal((await live.byTenant()).get('alpha')![0]!.state, 'exited', 'the team keeps its own, newer answer');
});
