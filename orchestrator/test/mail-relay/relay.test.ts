// The platform's mail relay on the real engine: a platform whose BERTH_SMTP_URL
// points at a real SMTP sink (smtp-server on 127.0.0.1, with credentials); a
// team's app sends its owner's setup mail and an invitation through the relay
// to the sink; another team's slug with this team's password is refused; the
// team's hourly quota answers a clear SMTP error; no container of the team
// holds the platform's SMTP credentials or the platform key.
import t from 'tap';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { names } from '../../src/names.js';
import { MAX_BYTES } from '../../src/mail-relay/mail-relay.js';
import { docker, runtime, testSlug } from '../helpers/docker.js';
import { freePort } from '../helpers/nginx.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd, until } from '../helpers/wait.js';

function iptables(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('iptables', ['-w', ...args], (err, _out, stderr) => (err ? reject(new Error(`iptables ${args.join(' ')}: ${stderr}`)) : resolve())));
}

interface SinkMail {
  user: string;
  from: string;
  to: string[];
  raw: string;
}

// The platform's own mail server: it takes mail only with the platform's credentials.
const SINK_USER = 'platform-mailer';
const SINK_PASSWORD = `sink-${randomBytes(12).toString('hex')}`;
const sunk: SinkMail[] = [];
const sink = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  allowInsecureAuth: true,
  authMethods: ['PLAIN', 'LOGIN'],
  logger: false,
  onAuth: (auth, _session, done) =>
    auth.username === SINK_USER && auth.password === SINK_PASSWORD ? done(null, { user: SINK_USER }) : done(new Error('wrong sink credentials')),
  onData(stream, session, done) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      sunk.push({ user: String(session.user), from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
      done();
    });
  }
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `smtp://${SINK_USER}:${SINK_PASSWORD}@127.0.0.1:${(sink.server.address() as AddressInfo).port}`;
t.teardown(() => new Promise<void>((resolve) => sink.close(() => resolve())));

const PER_HOUR = 4;
const FROM = 'Berth Test <no-reply@berth.test>';
const relayHost = await runtime.hostGatewayAddress();
const relayPort = await freePort();
// The host firewall (scripts/docker-up) admits from tenant networks only the
// production relay port; this test's relay has a port of its own (platforms of
// other tests may run beside it), so it opens exactly that one for its run.
const rule = ['INPUT', '-d', `${relayHost}/32`, '-p', 'tcp', '--dport', String(relayPort), '-j', 'ACCEPT'];
await iptables('-I', ...rule);
t.teardown(() => iptables('-D', ...rule));
const tp = await startTestPlatform('relay', { mailRelay: { smtpUrl: sinkUrl, from: FROM, perHour: PER_HOUR, port: relayPort } });
t.teardown(() => tp.close());
const relay = tp.platform.mail!;
const auth = { authorization: `Bearer ${tp.token}` };
const a = testSlug('rla');
const b = testSlug('rlb');

async function create(slug: string, ownerEmail?: string): Promise<void> {
  const res = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth, payload: { slug, plan: 'starter', ...(ownerEmail ? { ownerEmail } : {}) } });
  const end = await operationEnd(tp.platform.events, res.json().operation.id);
  if (end.type !== 'operation.succeeded') throw new Error(`create ${slug}: ${JSON.stringify(end.data)}`);
}

/** A form post to the team's app through Berth's nginx, as a browser on the team's address sends it. */
function postForm(slug: string, urlPath: string, fields: Record<string, string>, cookie?: string): Promise<{ status: number; body: string; cookie?: string }> {
  const origin = tp.platform.stacks.publicUrl(slug);
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(`http://127.0.0.1:${tp.nginx.port}${urlPath}`, {
      method: 'POST', agent: false, timeout: 30_000,
      headers: { host: new URL(origin).host, origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...(cookie ? { cookie } : {}) }
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, cookie: res.headers['set-cookie']?.find((c) => c.startsWith('berth_session='))?.split(';')[0] }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends one mail to the relay from the host as user/pass: 'sent', or the SMTP error the relay answered. */
async function sendAs(user: string, pass: string, to: string, text = 'hello'): Promise<string> {
  const transport = nodemailer.createTransport({ host: relayHost, port: relay.port, secure: false, auth: { user, pass }, connectionTimeout: 10_000, socketTimeout: 10_000 });
  try {
    await transport.sendMail({ from: 'someone@team.test', to, subject: 'hello', text });
    return 'sent';
  } catch (err) {
    return (err as Error).message;
  } finally {
    transport.close();
  }
}

/** The SMTP_URL a team's app was given: what the team holds. */
async function relayAccountOf(slug: string): Promise<URL> {
  const env = JSON.parse(await docker('inspect', '--format', '{{json .Config.Env}}', names.container(slug, 'app'))) as string[];
  return new URL(env.find((e) => e.startsWith('SMTP_URL='))!.slice('SMTP_URL='.length));
}

t.test("a team's app mails through the relay to the platform's SMTP server", async (t) => {
  const started = Date.now();
  await Promise.all([create(a, 'owner@a.test'), create(b)]);
  t.comment(`two teams up in ${Date.now() - started} ms; relay on ${relayHost}:${relay.port}`);

  const account = await relayAccountOf(a);
  t.equal(`${account.protocol}//${account.hostname}:${account.port}`, `smtp://mail-relay:${relay.port}`, 'the app is given the relay, by its name');
  t.equal(account.username, a, 'as its own slug');
  const hosts = JSON.parse(await docker('inspect', '--format', '{{json .HostConfig.ExtraHosts}}', names.container(a, 'app'))) as string[];
  t.same(hosts, ['mail-relay:host-gateway'], 'and the name resolves to the host');

  const setup = await until(() => sunk.find((m) => m.to.includes('owner@a.test')), 60_000, "the owner's setup mail at the sink");
  t.equal(setup.user, SINK_USER, "the relay forwarded with the platform's credentials");
  t.equal(setup.from, 'no-reply@berth.test', "the envelope sender is the platform's");
  t.match(setup.raw, /^From: Berth Test <no-reply@berth\.test>\r?$/m, "so is the From header");
  t.match(setup.raw, new RegExp(`^X-Berth-Team: ${a}\\r?$`, 'm'), 'and the team is named for abuse reports');

  const token = /\/welcome\/([A-Za-z0-9_-]+)/.exec(setup.raw.replace(/=\r?\n/g, ''))![1]!;
  const password = 'owner password 123';
  const joined = await postForm(a, `/welcome/${token}`, { name: 'Owner', password, confirm: password });
  t.equal(joined.status, 303, 'the owner sets a password through the mailed link');
  const invited = await postForm(a, '/team?/invite', { email: 'bea@a.test' }, joined.cookie);
  t.equal(invited.status, 200, 'the owner invites a member from the app');
  const invitation = sunk.find((m) => m.to.includes('bea@a.test'));
  t.ok(invitation, 'the invitation reached the sink before the app answered');
  t.match(invitation?.raw ?? '', /invited you to their team/);
});

t.test("another team's slug with this team's password is refused", async (t) => {
  const passA = decodeURIComponent((await relayAccountOf(a)).password);
  const passB = decodeURIComponent((await relayAccountOf(b)).password);
  t.not(passA, passB, 'each team has its own password');
  t.match(await sendAs(b, passA, 'x@b.test'), /535 5\.7\.8 wrong relay user or password/, "b's slug with a's password");
  t.match(await sendAs(a, passB, 'x@a.test'), /535/, "a's slug with b's password");
  const huge = await sendAs('x'.repeat(100_000), passA, 'x@a.test');
  t.comment(`a 100 kB user name: ${huge.slice(0, 200)}`);
  t.match(huge, /421 Error: Command line too long/, 'a 100 kB user name is refused before it is read');
  t.match(await sendAs('a'.repeat(1000), passA, 'x@a.test'), /535 5\.7\.8/, 'a 1000-character user name');
  t.match(await sendAs(`${b}\u0000${a}`, passA, 'x@a.test'), /501 Error: invalid userdata/, 'a user name with a PLAIN separator in it');
  t.match(await sendAs(a.toUpperCase(), passA, 'x@a.test'), /535 5\.7\.8/, 'the slug in capitals');
  t.equal(await sendAs(b, passB, 'ok@b.test'), 'sent', "b's own credentials work");
  t.notOk(sunk.some((m) => m.to.includes('x@b.test') || m.to.includes('x@a.test')), 'nothing refused reached the sink');

  const anonymous = nodemailer.createTransport({ host: relayHost, port: relay.port, secure: false, connectionTimeout: 10_000 });
  const refused = await anonymous.sendMail({ from: 'x@a.test', to: 'y@a.test', subject: 's', text: 't' }).then(() => 'sent', (err: Error) => err.message);
  anonymous.close();
  t.match(refused, /530/, 'no credentials: refused');
});

t.test('a message over the size cap is refused', async (t) => {
  const passB = decodeURIComponent((await relayAccountOf(b)).password);
  const big = await sendAs(b, passB, 'big@b.test', 'x'.repeat(MAX_BYTES + 1024));
  t.match(big, /552 5\.3\.4 messages through the relay are limited to 262144 bytes/, big.slice(0, 200));
  t.notOk(sunk.some((m) => m.to.includes('big@b.test')), 'and it was not forwarded');
});

t.test('the hourly quota answers a clear SMTP error after N, per team', async (t) => {
  const passA = decodeURIComponent((await relayAccountOf(a)).password);
  // The owner's mail and the invitation took two of a's four.
  t.equal(await sendAs(a, passA, 'three@a.test'), 'sent');
  t.equal(await sendAs(a, passA, 'four@a.test'), 'sent');
  const over = await sendAs(a, passA, 'five@a.test');
  t.match(over, new RegExp(`450 4\\.7\\.1 team ${a} has sent its ${PER_HOUR} mails this hour; try again in \\d+ minutes?`), `the fifth: ${over}`);
  t.notOk(sunk.some((m) => m.to.includes('five@a.test')), 'and it was not forwarded');

  const owner = await postForm(a, '/signin', { email: 'owner@a.test', password: 'owner password 123' });
  const invite = await postForm(a, '/team?/invite', { email: 'cy@a.test' }, owner.cookie);
  t.equal(invite.status, 502, 'an invitation from the app over the quota fails');
  t.match(invite.body, /mails this hour/, 'and the owner sees why');
  t.equal(await sendAs(b, decodeURIComponent((await relayAccountOf(b)).password), 'two@b.test'), 'sent', "another team's quota is its own");
});

t.test("no container of the team holds the platform's SMTP credentials or key", async (t) => {
  const key = (await readFile(path.join(tp.config.home, 'platform.key'), 'utf8')).trim();
  const secrets = { 'the SMTP password': SINK_PASSWORD, 'the SMTP URL': sinkUrl, 'the platform key': key };
  const doc = (await tp.platform.repo.get(a))!;
  const rendered = JSON.stringify(tp.platform.stacks.specFor(doc));
  for (const [what, value] of Object.entries(secrets)) t.notOk(rendered.includes(value), `the rendered stack holds not ${what}`);

  const containers = await runtime.listContainers({ 'berth.platform': tp.config.platformId, 'berth.tenant': a });
  t.same(containers.map((c) => c.labels['berth.service']).sort(), ['app', 'db', 'storage']);
  for (const c of containers) {
    const inspected = await docker('inspect', c.name);
    for (const [what, value] of Object.entries(secrets)) t.notOk(inspected.includes(value), `${c.name}: docker inspect shows not ${what}`);
  }
  const env = await docker('exec', names.container(a, 'app'), 'cat', '/proc/1/environ');
  t.match(env, /SMTP_URL=smtp:\/\//, "the app's process environment, read from inside");
  for (const [what, value] of Object.entries(secrets)) t.notOk(env.includes(value), `holds not ${what}`);
});
