// Hostile input against the console, built and run as production runs it, in
// front of a real orchestrator: its form checks are linear and capped before
// any pattern runs (1 MB adversarial values, checked in-process); a 200 KB or
// 1 MB POST to the public /onboard or /login is answered at once, naming what
// to do, while /login keeps answering others; a 60 KB value (under the body
// cap) is a 400 naming the field. Sign-ups paused by the daily team cap say
// so in the wizard and on the operators' dashboard; the team page issues a new
// owner link; the capacity page shows the headroom the API gives. Times are
// logged, not asserted.
import t from 'tap';
import { parse } from 'devalue';
import { authenticator } from 'otplib';
import { field, looksLikeEmail } from '../src/lib/server/forms.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { loadConfig } from '../../orchestrator/src/config/config.js';
import { operationEnd } from '../../orchestrator/test/helpers/wait.js';
import { startConsoleStack, type ConsoleStack } from './helpers/stack.js';

const MB = 1 << 20;
const ADVERSARIAL: Record<string, string> = {
  'a@ + a×1M': `a@${'a'.repeat(MB)}`,
  'a@ + a.×512K + space': `a@${'a.'.repeat(MB / 2)} `,
  '@×1M': '@'.repeat(MB),
  'a@a.a×200K + @': `${'a@a.a'.repeat(MB / 5)}@`
};

let stack: ConsoleStack;
t.before(async () => {
  const base = loadConfig();
  // No self-service team may be made today: the wizard must say sign-ups are paused.
  stack = await startConsoleStack('conhostile', { onboarding: { ...base.onboarding, perDay: { ...base.onboarding.perDay, teams: 0 } } });
});
t.teardown(async () => {
  await stack?.web.stop();
  await stack?.tp.close();
});

/** A form post the way SvelteKit's enhance sends it: the answer as JSON, its data decoded. */
async function action(path: string, body: string, cookie?: string) {
  const started = performance.now();
  const res = await fetch(`${stack.web.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-sveltekit-action': 'true', origin: stack.web.url,
      ...(cookie ? { cookie } : {})
    },
    body
  });
  const json = (await res.json()) as { type: string; status?: number; data?: string };
  return { ms: performance.now() - started, type: json.type, status: json.status, data: (json.data ? parse(json.data) : {}) as Record<string, any> };
}
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

t.test('the checks are linear and capped: a 1 MB adversarial value is refused (times logged)', async (t) => {
  const data = new FormData();
  for (const [kind, value] of Object.entries(ADVERSARIAL)) {
    const started = performance.now();
    t.notOk(looksLikeEmail(value), `${kind}: not an email`);
    data.set('email', value);
    t.equal(field(data, 'email', 254), null, `${kind}: over the field's cap`);
    t.comment(`${kind}: ${(performance.now() - started).toFixed(2)} ms`);
  }
  t.ok(looksLikeEmail('ann+tag@example.co.uk'));
  for (const bad of ['ann@', '@example.com', 'ann@example', 'ann@@example.com', 'an n@example.com', 'ann@example.']) t.notOk(looksLikeEmail(bad), bad);
});

t.test('a 200 KB or 1 MB POST to /onboard or /login gets a quick answer naming what to do, while /login keeps answering', async (t) => {
  const hostile = [
    ...Object.values(ADVERSARIAL).map((v) => action('/onboard?/start', form({ email: v, altcha: 'x' }))),
    action('/onboard?/start', form({ email: `a@${'a'.repeat(200 * 1024)}` })),
    action('/onboard?/verify', form({ code: '1'.repeat(MB) })),
    action('/onboard?/team', form({ displayName: '-'.repeat(MB), slug: 'a', plan: 'starter' })),
    action('/login', form({ email: ADVERSARIAL['a@ + a×1M']!, password: 'x', code: '123456' }))
  ];
  const login = (async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await fetch(`${stack.web.url}/login`);
      t.equal(res.status, 200, '/login answers meanwhile');
      await res.text();
      times.push(performance.now() - started);
    }
    return times;
  })();
  const answers = await Promise.all(hostile);
  for (const a of answers) {
    t.equal(a.status, 413, 'refused before the body is read');
    t.match(a.data, { field: 'form', message: /sent more than 64 KB, far more than any of its fields holds; shorten what you typed/ });
  }
  t.comment(`hostile posts answered in ${answers.map((a) => Math.round(a.ms)).join(', ')} ms; /login meanwhile in ${(await login).map(Math.round).join(', ')} ms`);
});

t.test('a 60 KB value under the body cap: a 400 naming the field, without echoing it whole', async (t) => {
  const long = `a@${'a.'.repeat(30 * 1024)} `;
  const probes: [string, Record<string, string>, string, RegExp][] = [
    ['/onboard?/start', { email: long, altcha: 'x' }, 'email', /at most 254 characters/],
    ['/onboard?/verify', { code: long }, 'code', /6 digits/],
    ['/onboard?/team', { displayName: long, slug: 'a', plan: 'starter' }, 'displayName', /at most 64 characters/],
    ['/onboard?/team', { displayName: 'Acme', slug: long, plan: 'starter' }, 'slug', /at most 32/],
    ['/login', { email: long, password: 'x', code: '123456' }, 'email', /at most 254 characters/],
    ['/login', { email: 'a@example.com', password: long, code: '123456' }, 'password', /at most 200 characters/]
  ];
  for (const [path, fields, name, says] of probes) {
    const a = await action(path, form(fields));
    t.equal(a.status, 400, `${path} ${name}`);
    t.equal(a.data.field, name, `names ${name}`);
    t.match(a.data.message, says);
    t.ok(JSON.stringify(a.data).length < 2000, 'the value is not echoed whole');
    t.comment(`${path} ${name}: ${Math.round(a.ms)} ms`);
  }
});

t.test('sign-ups paused by the daily team cap: the wizard says so; the dashboard tells operators', async (t) => {
  const a = await action('/onboard?/start', form({ email: 'new-team@example.com', altcha: 'x' }));
  t.equal(a.status, 503);
  t.same({ field: a.data.field, message: a.data.message }, { field: 'form', message: 'Sign-ups are paused for today; please try again later.' });

  const cookie = await operatorCookie();
  const page = await (await fetch(`${stack.web.url}/`, { headers: { cookie } })).text();
  t.match(page, /data-testid="signups-paused"/);
  t.match(page, /Self-service sign-ups are paused: 0 of 0 new teams were made today/);
});

t.test('the team page issues a new owner link', async (t) => {
  const { app, events } = stack.tp.platform;
  const slug = testSlug('conown');
  const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { authorization: `Bearer ${stack.tp.token}` }, payload: { slug, ownerEmail: 'owner@example.com' } });
  t.equal((await operationEnd(events, created.json().operation.id)).type, 'operation.succeeded');
  const before = await stack.tp.platform.tenantViews.ownerSetupUrl(slug);
  const a = await action(`/tenants/${slug}?/ownerLink`, '', await operatorCookie());
  t.equal(a.type, 'success');
  t.match(a.data, { kind: 'owner-link', operation: String, ownerLink: { url: /\/welcome\/[A-Za-z0-9_-]{43}$/, expiresAt: String } });
  t.not(a.data.ownerLink.url, before, 'a new link');
  t.equal((await operationEnd(events, a.data.operation)).type, 'operation.succeeded');
  t.equal(await stack.tp.platform.tenantViews.ownerSetupUrl(slug), a.data.ownerLink.url, 'the registry holds the new one');
});

t.test('the capacity page: the host\'s headroom and how many more teams of each plan fit, as the API says; linked from every page', async (t) => {
  const cookie = await operatorCookie();
  const res = await fetch(`${stack.web.url}/capacity`, { headers: { cookie } });
  t.equal(res.status, 200);
  const page = await res.text();
  t.match(page, /<a href="\/capacity"[^>]*aria-current="page"[^>]*>Capacity<\/a>/, 'in the navigation, current');
  t.match(page, /data-testid="memory">[\d.]+ GiB free of [\d.]+ GiB <span class="muted">\(reserve 2\.0 GiB\)/, 'memory free of total, and the reserve');
  t.match(page, /data-testid="disk">[\d.]+ [GT]iB free/, 'free disk');
  t.match(page, /data-testid="cpu">\d+ CPUs, load [\d.]+/);
  const api = (await stack.tp.platform.app.inject({ method: 'GET', url: '/api/v1/capacity', headers: { authorization: `Bearer ${stack.tp.token}` } })).json();
  const starter = api.plans.find((p: { plan: string }) => p.plan === 'starter');
  const shown = Number(/data-plan="starter"[\s\S]*?data-testid="fits"><strong>(\d+)<\/strong>/.exec(page)?.[1]);
  t.ok(Math.abs(shown - starter.fitsNow) <= 2, `starter: ${shown} shown, the API says ${starter.fitsNow} (read a moment apart)`);
  t.match(page.replace(/<!--.*?-->/g, ''), /1\.0 GiB memory, 1\.5 CPUs, 1\.0 GiB files/, 'what one starter team may take');
  const plain = await fetch(`${stack.web.url}/capacity`, { redirect: 'manual' });
  t.equal(plain.status, 303, 'not signed in: sent to sign in');
});

let session: string | undefined;
/** A signed-in operator's cookie (enrolled in-process; the sign-in page has its own test). */
async function operatorCookie(): Promise<string> {
  if (!session) {
    const { operators, sessions } = stack.tp.platform.operators;
    const { setupUrl, operator } = await operators.bootstrap({ email: 'ops@example.com', name: 'Ops' });
    const token = setupUrl.split('/setup/')[1]!;
    const { totpSecret } = await operators.setupStart(token);
    await operators.setupFinish({ token, password: 'correct horse battery', code: authenticator.generate(totpSecret) });
    session = (await sessions.create(operator.id)).session;
  }
  return `berth_session=${session}`;
}
