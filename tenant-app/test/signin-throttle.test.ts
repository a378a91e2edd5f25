// Guessing is slow: failed sign-ins against real FerretDB are throttled per
// account (known or not: the answers are the same) and per client address
// (the one nginx forwards), with backoff, answered 429 with Retry-After; the
// counts live in the team's database, so a restart forgets nothing. Time is
// moved by editing the stored lock (the app reads the real clock).
import t from 'tap';
import { MongoClient } from 'mongodb';
import { startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { seedMember, sessionCookie } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

const PASSWORD = 'correct horse battery';
let services: Services;
let app: RunningApp;
let mongo: MongoClient;
let env: Record<string, string>;

t.before(async () => {
  services = await startServices('throttle');
  env = { ...stackEnv(services, 'team'), LOG_LEVEL: 'info' };
  app = await startApp(env);
  mongo = new MongoClient(env.MONGO_URL!);
  await seedMember(env.MONGO_URL!, 'ann@example.com', PASSWORD);
});
t.teardown(async () => {
  await app?.stop();
  await mongo?.close();
  await services?.stop();
});

/** A sign-in form post as it arrives through Berth's nginx, from `ip`. */
async function signIn(email: string, password: string, ip: string) {
  const res = await fetch(`${app.url}/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: app.url, 'x-forwarded-for': ip },
    body: new URLSearchParams({ email, password }).toString()
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text(), cookie: sessionCookie(res) };
}
const throttle = () => mongo.db().collection<{ _id: string; lockedUntil?: Date; failures?: number }>('signin_throttle');
/** As if every running lock had run out. */
const timePasses = () => throttle().updateMany({ lockedUntil: { $exists: true } }, { $set: { lockedUntil: new Date(Date.now() - 1000) } });

t.test('per account: five failures lock it with 429 and Retry-After, even for the right password; the lock doubles; a known and an unknown account answer alike', async (t) => {
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 4; i++) {
    known.push((await signIn('ann@example.com', 'wrong password!', '198.51.100.1')).status);
    unknown.push((await signIn('nobody@example.com', 'wrong password!', '198.51.100.2')).status);
  }
  t.same(known, [401, 401, 401, 401]);
  t.same(unknown, known, 'an unknown address answers the same');
  const [k5, u5] = [await signIn('ann@example.com', 'wrong password!', '198.51.100.1'), await signIn('nobody@example.com', 'wrong password!', '198.51.100.2')];
  t.equal(k5.status, 429, 'the fifth failure locks');
  t.equal(k5.retryAfter, '30');
  t.match(k5.text, /too many failed sign-ins: wait 30 s, then try again/);
  t.same([u5.status, u5.retryAfter], [k5.status, k5.retryAfter], 'and an unknown address locks the same way');
  const right = await signIn('ann@example.com', PASSWORD, '198.51.100.9');
  t.equal(right.status, 429, 'even the right password, from another address, waits');
  t.notOk(right.cookie);

  await timePasses();
  const sixth = await signIn('ann@example.com', 'wrong password!', '198.51.100.1');
  t.same([sixth.status, sixth.retryAfter], [429, '60'], 'the next failure locks for twice as long');

  await app.stop();
  app = await startApp(env);
  t.equal((await signIn('ann@example.com', PASSWORD, '198.51.100.9')).status, 429, 'a restart forgets nothing: the counts are in the team\'s database');
  await timePasses();
  const ok = await signIn('ann@example.com', PASSWORD, '198.51.100.9');
  t.equal(ok.status, 303, 'once the lock ends, the right password works');
  t.ok(ok.cookie);
  t.equal((await signIn('ann@example.com', 'wrong password!', '198.51.100.1')).status, 401, 'and a good sign-in starts the account\'s count over');
});

t.test('per client address: twenty failures over any accounts lock the address, not the accounts elsewhere; an IPv6 /64 is one address', async (t) => {
  for (let i = 0; i < 19; i++) t.equal((await signIn(`guess${i}@example.com`, 'wrong password!', '203.0.113.5')).status, 401);
  const twentieth = await signIn('guess19@example.com', 'wrong password!', '203.0.113.5');
  t.same([twentieth.status, twentieth.retryAfter], [429, '30'], 'the address is locked');
  t.equal((await signIn('ann@example.com', PASSWORD, '203.0.113.5')).status, 429, 'from that address, even a real member waits');
  const elsewhere = await signIn('ann@example.com', PASSWORD, '203.0.113.6');
  t.equal(elsewhere.status, 303, 'from another address the member signs in');

  for (let i = 0; i < 20; i++) await signIn(`v6-${i}@example.com`, 'wrong password!', `2001:db8:9:9::${i + 1}`);
  t.equal((await signIn('ann@example.com', PASSWORD, '2001:db8:9:9:ffff::1')).status, 429, 'another address of the same /64 is the same address');
  t.equal((await signIn('ann@example.com', PASSWORD, '2001:db8:9:a::1')).status, 303, 'the next /64 is not');
  const stored = JSON.stringify(await throttle().find({}).toArray());
  t.notMatch(stored, /guess\d+@|ann@/, 'accounts are counted by a hash of the address, not the address');
});

t.test('guesses sent all at once are each counted: the first failures racing to make the count neither fail with 500 nor go uncounted', async (t) => {
  const answers = await Promise.all(Array.from({ length: 8 }, () => signIn('racer@example.com', 'wrong password!', '203.0.113.77')));
  t.same(answers.map((a) => a.status).filter((s) => s !== 401 && s !== 429), [], 'each refused as a guess (401, or 429 once locked), none 500');
  const address = await throttle().findOne({ _id: 'address:203.0.113.77' });
  t.equal(address?.failures, 8, 'the address counted every one of the 8');
});
