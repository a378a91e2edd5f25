// TLS at the edge, for real: a whole platform whose nginx runs with
// BERTH_TLS_MODE=local-ca (scripts/nginx-edge made its CA and certificate),
// a real team, and curl verifying the certificate against that CA. HTTPS
// answers with HSTS, HTTP answers 308 to HTTPS (method kept), the app is told
// https (X-Forwarded-Proto, a client's forgery replaced) and, its public URL
// being https, sets its session cookie Secure; the API is served on its own
// host name over HTTPS.
import t from 'tap';
import path from 'node:path';
import { names } from '../../src/names.js';
import { curl } from '../helpers/curl.js';
import { docker, testSlug } from '../helpers/docker.js';
import { freePort } from '../helpers/nginx.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { startUpstream } from './fixtures/nginx.js';

const apiPort = await freePort();
const tp = await startTestPlatform('tls', { reconcileIntervalMs: 3_600_000 }, undefined, {
  edge: { BERTH_TLS_MODE: 'local-ca', BERTH_API_HOST: '127.0.0.1', BERTH_API_PORT: String(apiPort) }
});
t.teardown(() => tp.close());
const { app, events } = tp.platform;
const cacert = path.join(tp.config.home, 'tls/ca.crt');
const https = tp.nginx.httpsPort;
const slug = testSlug('tls');
const host = `${slug}.${tp.config.baseDomain}`;

t.test('a real team over HTTPS: 200 with HSTS, its certificate verified against the local CA', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { authorization: `Bearer ${tp.token}` }, payload: { slug, ownerEmail: 'owner@example.com' } });
  t.equal(created.statusCode, 202, created.body);
  t.equal((await operationEnd(events, created.json().operation.id)).type, 'operation.succeeded');
  const res = await curl(`https://${host}:${https}/healthz`, { cacert });
  t.equal(res.status, 200, res.body);
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  t.equal(res.headers['x-berth-route'], slug);
  await t.rejects(curl(`https://${host}:${https}/healthz`), 'without the local CA, curl refuses the certificate');
  const env = await docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', names.container(slug, 'app'));
  t.match(env, `PUBLIC_URL=https://${host}:${https}\n`, 'the app is told its https address');
  t.equal((await tp.platform.tenantViews.ownerSetupUrl(slug))?.startsWith(`https://${host}:${https}/welcome/`), true);
});

t.test('plain HTTP answers 308 to the same URL over HTTPS, for GET and POST alike', async (t) => {
  for (const method of ['GET', 'POST']) {
    const res = await curl(`http://${host}:${tp.nginx.port}/board?x=1`, { method });
    t.equal(res.status, 308, method);
    t.equal(res.headers.location, `https://${host}:${https}/board?x=1`, method);
    t.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  }
  const api = await curl(`http://${tp.config.tls.apiHost}:${tp.nginx.port}/healthz`);
  t.equal(api.status, 308);
  t.equal(api.headers.location, `https://${tp.config.tls.apiHost}:${https}/healthz`);
});

t.test('the app sees X-Forwarded-Proto https, whatever the client sent', async (t) => {
  // A stand-in app (a node:http server) behind a real route entry: it records the headers nginx sends.
  const upstream = await startUpstream(t, 'proto');
  const other = testSlug('tlsp');
  await tp.platform.routes.setRoute(other, { kind: 'up', port: upstream.port });
  t.teardown(() => tp.platform.routes.removeRoute(other));
  const res = await curl(`https://${other}.${tp.config.baseDomain}:${https}/`, { cacert, headers: { 'X-Forwarded-Proto': 'http' } });
  t.equal(res.status, 200);
  t.equal(upstream.lastHeaders?.['x-forwarded-proto'], 'https');
  upstream.lastHeaders = undefined;
  const plain = await curl(`http://${other}.${tp.config.baseDomain}:${tp.nginx.port}/`, { headers: { 'X-Forwarded-Proto': 'https' } });
  t.equal(plain.status, 308, 'a forged https over plain HTTP is redirected, never passed on');
  t.equal(upstream.lastHeaders, undefined, 'the app saw nothing of it');
});

t.test("the team's session cookie is Secure: its owner chooses a password over HTTPS", async (t) => {
  const link = (await tp.platform.tenantViews.ownerSetupUrl(slug))!;
  const password = 'correct horse battery staple';
  const res = await curl(link, { cacert, method: 'POST', headers: { origin: `https://${host}:${https}`, accept: 'text/html' }, form: { name: 'Owner', password, confirm: password } });
  t.equal(res.status, 303, res.body.slice(0, 300));
  const session = res.cookies.find((c) => c.startsWith('berth_session='));
  t.ok(session, 'a session cookie is set');
  t.match(session, /;\s*Secure/i, 'it is Secure');
  t.match(session, /;\s*HttpOnly/i);
});

t.test('the API on its own host name over HTTPS', async (t) => {
  await app.listen({ host: '127.0.0.1', port: apiPort });
  const res = await curl(`https://${tp.config.tls.apiHost}:${https}/healthz`, { cacert });
  t.equal(res.status, 200, res.body);
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  const denied = await curl(`https://${tp.config.tls.apiHost}:${https}/api/v1/tenants`, { cacert });
  t.equal(denied.status, 401, 'the API still wants a token');
});
