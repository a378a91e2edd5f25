// A team owner's one-time setup link on the real engine, through a real nginx:
// it expires (the app gets OWNER_SETUP_EXPIRES_AT); an admin issues a new one
// (API, CLI), which restarts the app with it and kills the old one, and a
// stopped team gets it when started; no token appears in nginx's access log
// or in the container logs the API serves.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { httpGet } from '../../src/runtime/http-get.js';
import { silentLogger } from '../../src/log.js';
import { createPlatform } from '../../src/platform/platform.js';
import { names } from '../../src/names.js';
import { berth, listen } from '../helpers/berth-cli.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('ownlink');
t.teardown(() => tp.close());
const { app, events } = tp.platform;
const admin = { authorization: `Bearer ${tp.token}` };
const slug = testSlug('own');
const host = `${slug}.${tp.config.baseDomain}`;
const tokens: string[] = [];

const tokenOf = (url: string) => {
  const token = new URL(url).pathname.split('/welcome/')[1]!;
  tokens.push(token);
  return token;
};
const linkPage = async (token: string) => (await httpGet(`http://127.0.0.1:${tp.nginx.port}/welcome/${token}`, 10_000, { host })).body;
const WORKS = /Choose a password for <strong>owner@example\.com<\/strong>/;
const DEAD = /This link does not work/;

async function issue(via = app): Promise<{ url: string; expiresAt: string; operation: { id: string } }> {
  const res = await via.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/owner-link`, headers: admin });
  if (res.statusCode !== 202) throw new Error(res.body);
  t.equal(res.headers['cache-control'], 'no-store');
  return res.json();
}

t.test('a team made with an owner: the link works through nginx and expires after BERTH_OWNER_LINK_TTL_DAYS', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: admin, payload: { slug, ownerEmail: 'Owner@Example.com' } });
  t.equal(created.statusCode, 202, created.body);
  t.equal((await operationEnd(events, created.json().operation.id)).type, 'operation.succeeded');
  const first = tokenOf((await tp.platform.tenantViews.ownerSetupUrl(slug))!);
  t.match(await linkPage(first), WORKS);
  const env = await docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', names.container(slug, 'app'));
  const expires = Date.parse(/^OWNER_SETUP_EXPIRES_AT=(.*)$/m.exec(env)![1]!);
  t.ok(Math.abs(expires - (Date.now() + 7 * 86_400_000)) < 10 * 60_000, 'the app is told the link ends in 7 days');
});

t.test('only admins issue a new link; it kills the old one once the app restarted with it', async (t) => {
  for (const scope of ['read', 'write'] as const) {
    const { token } = await tp.platform.tokens.create({ name: `own-${scope}`, scope });
    const res = await app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/owner-link`, headers: { authorization: `Bearer ${token}` } });
    t.equal(res.statusCode, 403, `${scope} scope: 403`);
  }
  const old = tokens[0]!;
  const issued = await issue();
  t.match(issued.url, new RegExp(`^http://${host.replace(/\./g, '\\.')}:\\d+/welcome/[A-Za-z0-9_-]{43}$`));
  t.ok(Math.abs(Date.parse(issued.expiresAt) - (Date.now() + 7 * 86_400_000)) < 10 * 60_000, 'expires in 7 days');
  const fresh = tokenOf(issued.url);
  t.equal((await operationEnd(events, issued.operation.id)).type, 'operation.succeeded');
  t.match(await linkPage(old), DEAD, 'the old link is dead');
  t.match(await linkPage(fresh), WORKS, 'the new one works');
  const none = await app.inject({ method: 'POST', url: '/api/v1/tenants/nobody-here/owner-link', headers: admin });
  t.equal(none.statusCode, 404);
});

t.test('a link issued with a short lifetime stops working when it ends', async (t) => {
  // Another orchestrator process on the same registry, with a 3 s lifetime.
  const short = await createPlatform({ ...tp.config, ownerLinkTtlMs: 3000 }, silentLogger, { healthTimeoutMs: 60_000 });
  t.teardown(async () => {
    await short.close();
    // The registry answers from its writer's memory: the platform the other
    // tests use loads what this one wrote (an orchestrator restart would too).
    await tp.platform.repo.init();
  });
  await short.app.ready();
  const issued = await issue(short.app);
  const token = tokenOf(issued.url);
  t.equal((await operationEnd(short.events, issued.operation.id)).type, 'operation.succeeded');
  const env = await docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', names.container(slug, 'app'));
  t.match(env, `OWNER_SETUP_EXPIRES_AT=${issued.expiresAt}`, 'the app got the expiry the API answered');
  await until(async () => DEAD.test(await linkPage(token)), 30_000, 'the link to expire');
  t.match(await linkPage(token), /ask the platform(&#39;|')s operators for a new setup link/, 'and says whom to ask');
});

t.test('a stopped team gets its new link when it starts; the CLI issues one too', async (t) => {
  const stopped = await app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/actions/stop`, headers: admin });
  t.equal((await operationEnd(events, stopped.json().operation.id)).type, 'operation.succeeded');
  const issued = await issue();
  const token = tokenOf(issued.url);
  t.equal((await operationEnd(events, issued.operation.id)).type, 'operation.succeeded');
  t.equal((await tp.platform.tenantViews.get(slug)).phase, 'stopped', 'a stopped team stays stopped');
  const started = await app.inject({ method: 'POST', url: `/api/v1/tenants/${slug}/actions/start`, headers: admin });
  t.equal((await operationEnd(events, started.json().operation.id)).type, 'operation.succeeded');
  t.match(await linkPage(token), WORKS, 'and the link works once it runs');

  const url = await listen(tp);
  const run = await berth(['tenant', 'owner-link', slug, '--wait', '--timeout', '300'], { BERTH_URL: url, BERTH_TOKEN: tp.token });
  t.equal(run.code, 0, run.stderr);
  const printed = run.stdout.trim();
  t.match(printed, /\/welcome\/[A-Za-z0-9_-]{43}$/, 'the link alone on stdout');
  t.match(run.stderr, /the link works once, until \d{4}-\d\d-\d\dT.*; the previous one no longer works/);
  const cliToken = tokenOf(printed);
  t.match(await linkPage(cliToken), WORKS);
  t.match(await linkPage(token), DEAD);
});

t.test('no link token in nginx\'s access log, nor in the container logs the API serves', async (t) => {
  const access = await readFile(path.join(tp.nginx.prefix, 'logs/access.log'), 'utf8');
  t.match(access, /"GET \/welcome\/\[redacted\] HTTP\/1\.1" 200 /, 'the requests are there, token blanked');
  const res = await app.inject({ method: 'GET', url: `/api/v1/tenants/${slug}/logs?service=app&tail=2000`, headers: admin });
  const lines = (res.json() as { lines: string[] }).lines.join('\n');
  t.match(lines, /\/welcome\/\[redacted\]/, 'the app logged the link requests, token blanked');
  t.ok(tokens.length >= 5);
  for (const token of tokens) {
    t.notOk(access.includes(token), 'not in the access log');
    t.notOk(lines.includes(token), 'not in the served container log');
  }
});
