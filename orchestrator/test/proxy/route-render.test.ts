// The route renderer: pure, one template, every value validated before it
// reaches nginx's configuration language.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { BerthError } from '../../src/errors.js';
import { DOWN_STATES, renderRoute, routeRevision, type RenderInput, type RouteSpec } from '../../src/proxy/route-render.js';

const template = await readFile(path.join(ROOT_DIR, 'proxy-config/route.conf'), 'utf8');
const base = { slug: 'acme', baseDomain: 'berth.localhost', httpPort: 8080 };
const render = (route: RouteSpec, over: Partial<RenderInput> = {}) => renderRoute(template, { ...base, route, ...over });

t.test('an up route proxies to the app on 127.0.0.1 with upgrade headers, limits and the route header', async (t) => {
  const text = render({ kind: 'up', port: 20001 });
  t.matchSnapshot(text, 'up route');
  t.match(text, /^\s*listen 8080;$/m);
  t.match(text, /^\s*server_name acme\.berth\.localhost;$/m);
  t.match(text, /^\s*proxy_pass http:\/\/127\.0\.0\.1:20001;$/m);
  t.match(text, /^\s*proxy_http_version 1\.1;$/m);
  t.match(text, /^\s*proxy_set_header Upgrade \$http_upgrade;$/m);
  t.match(text, /^\s*proxy_set_header Connection \$connection_upgrade;$/m);
  for (const h of ['Host', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Real-IP']) t.match(text, new RegExp(`^\\s*proxy_set_header ${h} `, 'm'), h);
  for (const d of ['proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout']) t.match(text, new RegExp(`^\\s*${d} \\d+s;$`, 'm'), d);
  t.match(text, /^\s*client_max_body_size 100m;$/m, 'default request-size limit');
  t.match(text, /^\s*error_page 502 504 =503 @berth_unavailable;$/m, 'unreachable app: 503, never 502');
  t.match(text, /^\s*add_header X-Berth-Route acme always;$/m);
  t.notMatch(text, /^##|#@|__[A-Z_]+__/m, 'no template markers or placeholders left');
  t.match(render({ kind: 'up', port: 20001, maxBodySize: '2g' }), /client_max_body_size 2g;/);
});

t.test('every down state answers 503 with its own page and Retry-After, never proxying', async (t) => {
  for (const state of DOWN_STATES) {
    const text = render({ kind: 'down', state });
    t.matchSnapshot(text, `down: ${state}`);
    t.match(text, new RegExp(`This team's space is ${state}<`), state);
    t.match(text, /^\s*return 503 "/m, state);
    t.match(text, /^\s*add_header Retry-After \d+ always;$/m, state);
    t.match(text, /^\s*add_header X-Berth-Route acme always;$/m, state);
    t.notMatch(text, /proxy_pass|client_max_body_size/, state);
    t.notMatch(text, /__[A-Z_]+__/, state);
  }
});

t.test('rendering is deterministic; the revision changes with the content', async (t) => {
  const a = render({ kind: 'up', port: 20001 });
  t.equal(render({ kind: 'up', port: 20001 }), a, 'same input, same bytes: stale routes are found by comparing text');
  const rev = routeRevision(a);
  t.match(rev, /^[0-9a-f]{16}$/);
  t.not(routeRevision(render({ kind: 'up', port: 20002 })), rev);
  t.not(routeRevision(render({ kind: 'down', state: 'stopped' })), rev);
  t.equal(routeRevision('server { }'), undefined);
});

t.test('values are validated before they reach the text', async (t) => {
  const bad: Array<[string, () => string, RegExp]> = [
    ['slug with a directive', () => render({ kind: 'up', port: 1 }, { slug: 'acme; include /etc/passwd' }), /not a valid tenant slug/],
    ['slug too short', () => render({ kind: 'up', port: 1 }, { slug: 'ab' }), /not a valid tenant slug/],
    ['slug with --', () => render({ kind: 'up', port: 1 }, { slug: 'ab--c' }), /must not end with - or contain --/],
    ['port 0', () => render({ kind: 'up', port: 0 }), /port must be an integer from 1 to 65535/],
    ['port 65536', () => render({ kind: 'up', port: 65536 }), /port must be an integer/],
    ['port 80.5', () => render({ kind: 'up', port: 80.5 }), /port must be an integer/],
    ['port as text', () => render({ kind: 'up', port: '80' as unknown as number }), /port must be an integer/],
    ['listen port', () => render({ kind: 'up', port: 80 }, { httpPort: 0 }), /httpPort must be an integer/],
    ['unknown state', () => render({ kind: 'down', state: 'running' as 'stopped' }), /state must be one of stopped, failed/],
    ['body size with a unit word', () => render({ kind: 'up', port: 80, maxBodySize: '10mb' }), /maxBodySize must look like/],
    ['body size injection', () => render({ kind: 'up', port: 80, maxBodySize: '1m; return 200' }), /maxBodySize must look like/],
    ['base domain', () => render({ kind: 'up', port: 80 }, { baseDomain: 'x;y' }), /not a valid base domain/],
    ['kind', () => render({ kind: 'sideways' } as unknown as RouteSpec), /route kind must be up or down/]
  ];
  for (const [name, fn, message] of bad) {
    t.throws(fn, { name: 'BerthError', code: 'ROUTE_INVALID', message }, name);
  }
  const err = (() => {
    try {
      render({ kind: 'up', port: 0 }, { slug: 'beta' });
    } catch (e) {
      return e as BerthError;
    }
  })();
  t.same(err?.details, { slug: 'beta', field: 'port' }, 'the error names the tenant and the field');
});

t.test('a broken template fails loudly instead of writing half a route', async (t) => {
  const input = { ...base, route: { kind: 'up', port: 1 } as const };
  t.throws(() => renderRoute('#@up\nserver {}\n', input), /never closed/);
  t.throws(() => renderRoute('#@end\n', input), /#@end without/);
  t.throws(() => renderRoute('#@sideways\n#@end\n', input), /unknown marker/);
  t.throws(() => renderRoute('#@up\n#@down\n#@end\n', input), /inside #@up/);
  t.throws(() => renderRoute('server_name __NOPE__;\n', input), /placeholder __NOPE__ has no value/);
});
