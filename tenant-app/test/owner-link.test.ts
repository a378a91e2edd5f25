// The owner's one-time setup link against real FerretDB: it stops working at
// OWNER_SETUP_EXPIRES_AT; a new OWNER_SETUP_TOKEN (an operator issued a new
// link and the platform restarted the app with it) replaces a pending owner's
// link, and the old one stops working; once the owner has a password, a new
// token changes nothing. The token never reaches the app's log, and the link
// page sends no Referer and is not cached.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { postForm, sessionCookie, signIn } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

const PASSWORD = 'correct horse battery';
const token = () => randomBytes(32).toString('base64url');
const tokens = { first: token(), second: token(), third: token() };
let services: Services;
let app: RunningApp | undefined;
const logs: string[] = [];

t.before(async () => {
  services = await startServices('ownerlink');
});
t.teardown(async () => {
  await app?.stop();
  await services?.stop();
});

async function restart(setupToken: string, expiresAt: Date): Promise<RunningApp> {
  if (app) {
    await app.stop();
    logs.push(...app.logs.map((l) => JSON.stringify(l)));
  }
  app = await startApp({
    ...stackEnv(services, 'team'), LOG_LEVEL: 'info', OWNER_EMAIL: 'owner@example.com',
    OWNER_SETUP_TOKEN: setupToken, OWNER_SETUP_EXPIRES_AT: expiresAt.toISOString()
  });
  return app;
}
const page = async (a: RunningApp, tok: string) => {
  const res = await fetch(`${a.url}/welcome/${tok}`);
  return { res, text: await res.text() };
};

t.test('an expired link is refused, saying whom to ask', async (t) => {
  const a = await restart(tokens.first, new Date(Date.now() - 60_000));
  const { text } = await page(a, tokens.first);
  t.match(text, /This link does not work/);
  t.match(text, /ask the platform&#39;s operators for a new setup link|ask the platform's operators for a new setup link/);
});

t.test('a new token replaces a pending owner\'s link: the old one stops working, the new one works until it expires', async (t) => {
  const a = await restart(tokens.second, new Date(Date.now() + 7 * 86_400_000));
  t.match((await page(a, tokens.first)).text, /This link does not work/, 'the old link is dead');
  const { res, text } = await page(a, tokens.second);
  t.match(text, /owner@example\.com/, 'the new link opens the owner\'s setup');
  t.equal(res.headers.get('referrer-policy'), 'same-origin', 'the page lets no Referer carry the token to another site');
  t.equal(res.headers.get('cache-control'), 'no-store');
  const done = await postForm(a.url, `/welcome/${tokens.second}`, { name: 'Olga', password: PASSWORD, confirm: PASSWORD });
  t.equal(done.status, 303);
  t.ok(sessionCookie(done), 'the owner chose a password and is signed in');
});

t.test('once the owner is active, a new token changes nothing', async (t) => {
  const a = await restart(tokens.third, new Date(Date.now() + 86_400_000));
  t.match((await page(a, tokens.third)).text, /This link does not work/, 'no way to take over an active owner');
  t.ok(await signIn(a.url, 'owner@example.com', PASSWORD), 'the owner\'s password still works');
});

t.test('no token reaches the app\'s log; the link\'s requests are logged with the token blanked', async (t) => {
  await app!.stop();
  logs.push(...app!.logs.map((l) => JSON.stringify(l)));
  app = undefined;
  const all = logs.join('\n');
  t.ok(logs.some((l) => l.includes('"path":"/welcome/[redacted]"')), 'requests to the link are logged, redacted');
  for (const [name, tok] of Object.entries(tokens)) t.notOk(all.includes(tok), `the ${name} token is not in the log`);
});
