// Every reply of the main routes fits the response schema its route declares
// (the contract): checked on the handler's payload, before the serializer
// could drop a field the schema does not name (helpers/reply-schemas.ts).
import t from 'tap';
import * as contract from '../../src/contract/index.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { replyChecker } from '../helpers/reply-schemas.js';
import { operationEnd } from '../helpers/wait.js';

const checker = replyChecker();
const tp = await startTestPlatform('rsch', {}, undefined, { beforeSerialize: checker.hook });
t.teardown(() => tp.close());
const { app } = tp.platform;
const admin = { authorization: `Bearer ${tp.token}` };
let sent = 0;
const send = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = admin) => {
  sent++;
  return app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
};
const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = admin) =>
  (await send(method, url, payload, headers)).statusCode;
const slug = testSlug('rsch');
// Whatever a failed run left of the tenant (a passing run deletes it through the API).
t.teardown(async () => {
  const ids = async (...ls: string[]) => (await docker(...ls, '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').filter(Boolean);
  for (const [rm, ls] of [[['rm', '-fv'], ['ps', '-a']], [['network', 'rm'], ['network', 'ls']], [['volume', 'rm'], ['volume', 'ls']]] as const) {
    const found = await ids(...ls);
    if (found.length > 0) await docker(...rm, ...found);
  }
});

t.test('the main routes answer within their schemas', async (t) => {
  const created = await send('POST', '/tenants', { slug, displayName: 'Reply Schemas' });
  t.equal(created.statusCode, 202, 'tenant create');
  t.equal((await operationEnd(tp.platform.events, created.json().operation.id)).type, 'operation.succeeded', 'the tenant runs');
  t.equal(await call('GET', '/tenants'), 200, 'tenant list, with a running tenant');
  t.equal(await call('GET', `/tenants/${slug}`), 200, 'tenant get');
  t.equal(await call('GET', `/tenants/${slug}/events`), 200, 'tenant events');
  t.equal(await call('GET', `/tenants/${slug}/logs?tail=5`), 200, 'tenant logs');
  t.equal(await call('GET', `/tenants/${slug}/stats`), 200, 'tenant stats');
  t.equal(await call('POST', '/upgrades/preview', { toVersion: 'nope-1', tenants: [slug] }), 400, 'upgrade preview of an unknown version');
  t.equal(await call('GET', '/tenants/nobody-here'), 404, 'tenant get (not found: the Error schema)');
  t.equal(await call('POST', '/tenants', { slug: 'berth-x' }), 400, 'tenant create refused (reserved slug)');
  t.equal(await call('GET', '/upgrades'), 200, 'upgrades list');
  t.equal(await call('GET', '/versions'), 200, 'versions');
  t.equal(await call('GET', '/templates'), 200, 'templates');
  t.equal(await call('GET', '/operators'), 200, 'operators');
  t.equal(await call('GET', '/auth/me'), 200, 'who am I');
  t.equal(await call('GET', '/tokens'), 200, 'tokens');
  t.equal(await call('GET', '/audit'), 200, 'audit');
  t.equal(await call('GET', '/onboarding/captcha', undefined, {}), 200, 'onboarding captcha (public)');
  t.equal(await call('GET', '/onboarding/signup', undefined, {}), 401, 'onboarding status without a sign-up (public)');
  t.equal(await call('GET', '/onboarding/quota'), 200, 'onboarding quota');
  t.equal(await call('GET', '/onboarding/mails'), 200, 'captured mails');
  t.comment(`checked: ${checker.checked.join('; ')}`);
  t.equal(checker.checked.length, sent, 'every reply above was checked');
  const deleted = await send('DELETE', `/tenants/${slug}?deleteData=true&confirm=${slug}`);
  t.equal(deleted.statusCode, 202, 'tenant delete');
  t.equal((await operationEnd(tp.platform.events, deleted.json().operation.id)).type, 'operation.succeeded', 'the tenant and its data are gone');
  t.same(checker.violations, [], 'no reply left its schema');
});

t.test('the check fails on a reply that leaves its schema', async (t) => {
  const list = { type: 'object', additionalProperties: false, required: ['tenants'], properties: { tenants: { type: 'array', items: { $ref: 'Tenant#' } } } };
  const tenant = {
    slug: 'acme', displayName: 'Acme', plan: 'small', template: 'tenant', templateVersion: 1, appVersion: '1.0.0', phase: 'running',
    desired: 'running', url: 'http://acme.x/', port: 20000, createdAt: new Date(0), updatedAt: new Date(0)
  };
  t.equal(checker.check(list, { tenants: [tenant] }), undefined, 'a good tenant list passes (Dates as the serializer writes them)');
  t.match(checker.check(list, { tenants: [{ ...tenant, secret: 'x' }] }), /must NOT have additional properties/, 'an extra field fails');
  const { url: _url, ...missing } = tenant;
  t.match(checker.check(list, { tenants: [missing] }), /must have required property 'url'/, 'a missing field fails');
  t.match(checker.check(list, { tenants: [{ ...tenant, port: '20000' }] }), /port must be integer/, 'a mistyped field fails');
  t.match(checker.check(contract.upgrades.jobListReply, { jobs: [{ id: 'x' }] }), /required property/, 'an upgrade job without its fields fails');
});
