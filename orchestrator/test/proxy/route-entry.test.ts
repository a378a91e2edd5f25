// Route entries and the table text: pure, every value checked (lengths before
// patterns) before it reaches nginx, and a table that was cut short or altered
// is refused whole. berth_routes.lua checks the same again (route-manager.test.ts).
import t from 'tap';
import { DOWN_STATES, entryLine, parseTable, tableText, type RouteSpec } from '../../src/proxy/route-entry.js';

const D = 'berth.test';

t.test('each kind of route is one line', async (t) => {
  t.equal(entryLine(D, 'acme', { kind: 'up', port: 20001 }), 'acme.berth.test acme up 20001 104857600', 'default body size 100m, no edge limits');
  t.equal(entryLine(D, 'acme', { kind: 'up', port: 20001, maxBodySize: '512k' }), 'acme.berth.test acme up 20001 524288');
  t.equal(entryLine(D, 'acme', { kind: 'up', port: 1, maxBodySize: '1g' }), 'acme.berth.test acme up 1 1073741824');
  t.equal(entryLine(D, 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 1, burst: 0, connections: 1 } }), 'acme.berth.test acme up 80 104857600 1 0 1', 'the smallest limits');
  t.equal(entryLine(D, 'acme', { kind: 'up', port: 80, maxBodySize: '1m', limits: { ratePerMinute: 1200, burst: 40, connections: 30 } }), 'acme.berth.test acme up 80 1048576 1200 40 30');
  for (const state of DOWN_STATES) t.equal(entryLine(D, 'acme', { kind: 'down', state }), `acme.berth.test acme down ${state}`);
  t.equal(entryLine(D, 'acme', { kind: 'sleeping', wake: '127.0.0.1:7300' }), 'acme.berth.test acme sleeping 127.0.0.1:7300');
});

t.test('a bad value is refused naming the field, without echoing a huge value', async (t) => {
  const huge = 'a'.repeat(1 << 20);
  const bad: Array<[string, string, RouteSpec, string]> = [
    ['1 MB slug', huge, { kind: 'up', port: 80 }, 'slug'],
    ['slug with a separator', 'acme beta', { kind: 'up', port: 80 }, 'slug'],
    ['slug with a newline', 'acme\nevil.berth.test evil up 22', { kind: 'up', port: 80 }, 'slug'],
    ['slug with a dot', 'acme.evil', { kind: 'up', port: 80 }, 'slug'],
    ['slug with --', 'ab--c', { kind: 'up', port: 80 }, 'slug'],
    ['port 0', 'acme', { kind: 'up', port: 0 }, 'port'],
    ['port 65536', 'acme', { kind: 'up', port: 65536 }, 'port'],
    ['port 80.5', 'acme', { kind: 'up', port: 80.5 }, 'port'],
    ['port as text', 'acme', { kind: 'up', port: '80' as unknown as number }, 'port'],
    ['body size word', 'acme', { kind: 'up', port: 80, maxBodySize: '10mb' }, 'maxBodySize'],
    ['body size over the cap', 'acme', { kind: 'up', port: 80, maxBodySize: '2g' }, 'maxBodySize'],
    ['body size 1 MB', 'acme', { kind: 'up', port: 80, maxBodySize: huge }, 'maxBodySize'],
    ['rate 0', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 0, burst: 1, connections: 1 } }, 'ratePerMinute'],
    ['rate as text', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: '20r/s' as unknown as number, burst: 1, connections: 1 } }, 'ratePerMinute'],
    ['rate 1 MB', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: huge as unknown as number, burst: 1, connections: 1 } }, 'ratePerMinute'],
    ['negative burst', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 60, burst: -1, connections: 1 } }, 'burst'],
    ['fractional burst', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 60, burst: 1.5, connections: 1 } }, 'burst'],
    ['no connections', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 60, burst: 1, connections: 0 } }, 'connections'],
    ['connections over the bound', 'acme', { kind: 'up', port: 80, limits: { ratePerMinute: 60, burst: 1, connections: 1e9 } }, 'connections'],
    ['limits not an object', 'acme', { kind: 'up', port: 80, limits: 'fast' as never }, 'limits'],
    ['unknown state', 'acme', { kind: 'down', state: 'running' as 'stopped' }, 'state'],
    ['wake not an address', 'acme', { kind: 'sleeping', wake: 'example.com:80' }, 'wake'],
    ['wake octet', 'acme', { kind: 'sleeping', wake: '300.0.0.1:80' }, 'wake'],
    ['unknown kind', 'acme', { kind: 'sideways' } as unknown as RouteSpec, 'kind']
  ];
  for (const [name, slug, route, field] of bad) {
    try {
      entryLine(D, slug, route);
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.match(err, { name: 'BerthError', code: 'ROUTE_INVALID', details: { field } }, name);
      t.match((err as Error).message, new RegExp(`${field}: `), `${name}: the message names ${field}`);
      t.ok((err as Error).message.length < 300, `${name}: a short message`);
    }
  }
});

t.test('a table survives a round trip; a cut or altered one is refused whole', async (t) => {
  const lines = [entryLine(D, 'beta', { kind: 'down', state: 'stopped' }), entryLine(D, 'acme', { kind: 'up', port: 20001 })];
  const text = tableText(lines);
  t.same(parseTable(text), [...lines].sort());
  t.same(parseTable(tableText([])), [], 'an empty table');
  t.throws(() => parseTable(text.slice(0, -20)), /truncated|trailer/);
  t.throws(() => parseTable(text.replace('20001', '20002')), /checksum does not match/);
  t.throws(() => parseTable(text.replace(/^berth-routes 1/, 'berth-routes 9')), /line 1/);
  t.throws(() => parseTable('x'.repeat(1 << 20)), /truncated|line 1/);
});
