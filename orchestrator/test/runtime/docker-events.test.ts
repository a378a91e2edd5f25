// The engine's event lines as the crash watcher gets them: only a container's
// `die`, with Berth's labels apart from Docker's own attributes; anything else
// (another event, a line that is not JSON) is no death.
import t from 'tap';
import { diedFrom } from '../../src/runtime/docker-runtime.js';

const line = (over: Record<string, unknown> = {}) => JSON.stringify({
  status: 'die', id: 'abc', from: 'berth/tenant-app:0.1.0', Type: 'container', Action: 'die',
  Actor: { ID: 'abc', Attributes: { 'berth.tenant': 'acme', 'berth.service': 'app', 'berth.platform': 'default', exitCode: '137', image: 'berth/tenant-app:0.1.0', name: 'berth.acme.app' } },
  scope: 'local', time: 1796270416, timeNano: 1796270416269000000, ...over
});

t.test('a die names the container, its berth labels only, its exit code and when', async (t) => {
  const died = diedFrom(line());
  t.same(died, { id: 'abc', name: 'berth.acme.app', labels: { 'berth.tenant': 'acme', 'berth.service': 'app', 'berth.platform': 'default' }, exitCode: 137, timeNano: died!.timeNano });
  // JSON numbers past 2^53 are rounded: within a microsecond is what resuming needs.
  t.ok(died!.timeNano > 1796270416268000000n && died!.timeNano < 1796270416270000000n);
});

t.test('other events and broken lines are no death', async (t) => {
  t.equal(diedFrom(line({ Action: 'start' })), undefined);
  t.equal(diedFrom(line({ Type: 'network' })), undefined);
  t.equal(diedFrom('{"Type":"container","Action":"die"}'), undefined, 'no actor');
  t.equal(diedFrom('not json'), undefined);
  t.equal(diedFrom('{"Type":"container","Action":"die","Actor":{"ID":"x","Attributes":{}}'), undefined, 'cut short');
});
