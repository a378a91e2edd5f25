// Hostile input against the team app's validators, on real FerretDB and MinIO:
// a 1 MB adversarial value in every form field and JSON field is answered 400
// with the field named and what to do (the app runs with a body cap above
// 1 MB here so the validators themselves see the value); with the image's
// cap, such a body is refused 413 before anything reads it. Times are logged,
// not asserted.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { postForm, seedMember, signIn, type MemberSession } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

const MB = 1 << 20;
const ADVERSARIAL: Record<string, string> = {
  'a@ + a×1M': `a@${'a'.repeat(MB)}`,
  'a.×512K + @': `a@${'a.'.repeat(MB / 2)}@`,
  'a@a.a×200K + space': `${'a@a.a'.repeat(MB / 5)} `,
  '-×1M': '-'.repeat(MB)
};
const PASSWORD = 'correct horse battery';
const ownerToken = randomBytes(32).toString('base64url');

let services: Services;
let wide: RunningApp;
let strict: RunningApp;
let owner: MemberSession;

t.before(async () => {
  services = await startServices('hostile');
  const env: Record<string, string> = { ...stackEnv(services, 'team'), OWNER_EMAIL: 'owner@example.com', OWNER_SETUP_TOKEN: ownerToken };
  wide = await startApp({ ...env, REQUEST_MAX_BYTES: String(8 * MB) });
  strict = await startApp(env);
  await seedMember(env.MONGO_URL!, 'boss@example.com', PASSWORD, 'owner');
  owner = await signIn(wide.url, 'boss@example.com', PASSWORD);
});

t.teardown(async () => {
  await wide?.stop();
  await strict?.stop();
  await services?.stop();
});

const timed = async (send: () => Promise<Response>) => {
  const started = performance.now();
  const res = await send();
  return { res, text: await res.text(), ms: performance.now() - started };
};

t.test('forms: a 1 MB value in each field is a quick 400 naming the field', async (t) => {
  const probes: { name: string; path: string; fields: (v: string) => Record<string, string>; says: RegExp; cookie?: string }[] = [
    { name: 'sign-in email', path: '/signin', fields: (v) => ({ email: v, password: PASSWORD }), says: /at most 254 characters/ },
    { name: 'sign-in password', path: '/signin', fields: (v) => ({ email: 'boss@example.com', password: v }), says: /at most 200 characters/ },
    { name: 'welcome name', path: `/welcome/${ownerToken}`, fields: (v) => ({ name: v, password: PASSWORD, confirm: PASSWORD }), says: /enter a name of 1 to 80 characters/ },
    { name: 'welcome password', path: `/welcome/${ownerToken}`, fields: (v) => ({ name: 'Olga', password: v, confirm: v }), says: /use 10 to 200 characters/ },
    { name: 'invite email', path: '/team?/invite', fields: (v) => ({ email: v }), says: /enter an email address like ana@example\.com \(at most 254 characters\)/, cookie: owner.cookie }
  ];
  const times: number[] = [];
  for (const probe of probes) {
    for (const [kind, value] of Object.entries(ADVERSARIAL)) {
      const { res, text, ms } = await timed(() => postForm(wide.url, probe.path, probe.fields(value), probe.cookie));
      times.push(ms);
      t.equal(res.status, 400, `${probe.name} (${kind}): 400`);
      t.match(text, probe.says, `${probe.name} (${kind}): the message next to the field says what to do`);
      t.ok(text.length < 200_000, 'the value is not echoed whole');
    }
  }
  t.comment(`${times.length} form posts with a 1 MB value: slowest ${Math.round(Math.max(...times))} ms`);
  // A URL cannot carry 1 MB (Node refuses request heads over 16 KB with 431): 8 KB in the path and the query.
  const page = await fetch(`${wide.url}/welcome/${'x'.repeat(8192)}`);
  t.match(await page.text(), /This link does not work/, 'an 8 KB made-up link token is just an unknown link');
});

t.test('JSON: a 1 MB value in each item field is a quick 400 naming the field', async (t) => {
  const times: number[] = [];
  for (const field of ['title', 'description', 'assigneeId', 'status']) {
    for (const [kind, value] of Object.entries(ADVERSARIAL)) {
      const started = performance.now();
      const res = await owner.json('POST', '/api/items', { title: 'ok', [field]: value });
      times.push(performance.now() - started);
      t.equal(res.status, 400, `${field} (${kind}): 400`);
      const body = (await res.json()) as { error: { code: string; fields?: Record<string, string> } };
      t.equal(body.error.code, 'VALIDATION');
      t.ok(body.error.fields?.[field], `${field} (${kind}): named, with "${body.error.fields?.[field]}"`);
    }
  }
  for (const param of ['status', 'assignee']) {
    const res = await owner.fetch(`/api/items?${param}=${'-'.repeat(8192)}`);
    t.equal(res.status, 400, `?${param}= with 8 KB: 400`);
  }
  t.equal((await owner.fetch(`/api/items?q=${'a.'.repeat(4096)}`)).status, 200, 'a long search is cut to 100 characters, not refused');
  t.comment(`${times.length} JSON posts with a 1 MB value: slowest ${Math.round(Math.max(...times))} ms`);
});

t.test('with the image\'s body cap, a 1 MB form is refused 413 before anything reads it', async (t) => {
  for (const path of ['/signin', `/welcome/${ownerToken}`]) {
    const { res, text, ms } = await timed(() => postForm(strict.url, path, { email: ADVERSARIAL['a@ + a×1M']!, password: PASSWORD }));
    t.equal(res.status, 413, path);
    t.match(text, /requests may carry at most 262144 bytes/);
    t.comment(`${path}: ${Math.round(ms)} ms`);
  }
});
