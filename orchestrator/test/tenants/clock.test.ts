// Tenants on an injected clock (a test clock over the real engine, database
// and nginx): the registry's times, an operation's start and the owner link's
// expiry come from it, so an expiry is tested without waiting for it.
import t from 'tap';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';

const HOUR = 3_600_000;
let now = Date.parse('2031-03-04T05:06:00Z');
const tp = await startTestPlatform('clock', { ownerLinkTtlMs: HOUR }, undefined, { clock: () => new Date(now) });
t.teardown(() => tp.close());
const auth = { authorization: `Bearer ${tp.token}` };
const slug = testSlug('clk');

t.test('the tenant record, its operation and its owner link follow the injected clock', async (t) => {
  const created = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug, ownerEmail: 'owner@example.com' } });
  t.equal(created.statusCode, 202, created.body);
  const { tenant, operation } = created.json();
  t.equal(tenant.createdAt, '2031-03-04T05:06:00.000Z', 'created at the clock\'s time');
  t.equal(tenant.operation.startedAt, '2031-03-04T05:06:00.000Z', 'the create operation started at the clock\'s time');
  t.match(await tp.platform.tenantViews.ownerSetupUrl(slug), /\/welcome\/[A-Za-z0-9_-]{20,}$/, 'the owner link works within its hour');
  now += HOUR;
  t.equal(await tp.platform.tenantViews.ownerSetupUrl(slug), undefined, 'an hour later by the clock it has expired');
  const end = await operationEnd(tp.platform.events, operation.id);
  t.equal(end.type, 'operation.succeeded', 'the create ends as usual');
  const after = (await tp.platform.app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}`, headers: auth })).json();
  t.equal(after.phase, 'running');
});
