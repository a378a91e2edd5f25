// TLS in Debian's Chromium, trusting the test's local CA for real: the CA goes
// into an NSS database in a temporary HOME (certutil, as the README tells an
// operator), never --ignore-certificate-errors. A platform whose nginx runs
// with BERTH_TLS_MODE=local-ca serves a real team and the real console (built,
// `node console/server.js`, its origin the https console host) over HTTPS; the
// page loads with no certificate error, a browser without the CA is refused,
// and signing in to the console sets a Secure session cookie.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { authenticator } from 'otplib';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { TOTP_STEP_SECONDS } from '../../orchestrator/src/operators/totp.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { freePort } from '../../orchestrator/test/helpers/nginx.js';
import { startTestPlatform, type TestPlatform } from '../../orchestrator/test/helpers/platform.js';
import { operationEnd } from '../../orchestrator/test/helpers/wait.js';
import { launchBrowser } from './helpers/browser.js';
import { requireConsoleBuild, startConsole, type RunningConsole } from './helpers/console.js';

const run = promisify(execFile);
const EMAIL = 'tess@example.com';
const PASSWORD = 'correct horse battery';
const slug = testSlug('tlsb');

let tp: TestPlatform;
let web: RunningConsole;
let trusting: Browser;
let home = '';
// The test's names to 127.0.0.1 without a DNS lookup: Chromium aborts lookups
// in flight (ERR_NETWORK_CHANGED) whenever Docker adds or removes an interface.
const RESOLVE = ['--host-resolver-rules=MAP *.berth.localhost 127.0.0.1'];

/**
 * page.goto, again while Chromium says ERR_NETWORK_CHANGED: Docker adding or
 * removing an interface (this test's stacks, or another run's) aborts a
 * navigation in flight. The reason is read from the failed navigation request
 * (its net:: error); Chromium sometimes reports only that the navigation was
 * "interrupted by another navigation to chrome-error://" with no failed
 * request at all, which is taken as the same abort. Any other error (a
 * certificate refused, a connection refused) is the answer, and so is the
 * same abort still happening after 5 attempts.
 */
async function navigate(page: Page, url: string): Promise<Response | null> {
  for (let attempt = 1; ; attempt++) {
    let failure: string | undefined;
    const failed = (req: Request) => {
      if (req.isNavigationRequest()) failure = req.failure()?.errorText;
    };
    page.on('requestfailed', failed);
    try {
      return await page.goto(url);
    } catch (err) {
      const why = `${String(err)} (the navigation request: ${failure ?? 'no failure reported'})`;
      const aborted = why.includes('ERR_NETWORK_CHANGED') || (why.includes('chrome-error://') && failure === undefined);
      if (!aborted || attempt === 5) throw new Error(why);
      t.comment(`navigation to ${url} aborted (attempt ${attempt}): ${why.slice(0, 300)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      page.off('requestfailed', failed);
    }
  }
}

/** navigate, then hydration; loaded again when a module fetch was aborted the same way (no hydration then). */
async function visitSettled(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await navigate(page, url);
    try {
      await page.locator('html[data-hydrated="true"]').waitFor({ timeout: 15_000 });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

t.before(async () => {
  const consolePort = await freePort();
  const apiPort = await freePort();
  await Promise.all([
    requireConsoleBuild(),
    (async () => {
      tp = await startTestPlatform('tlsb', {}, undefined, {
        edge: { BERTH_TLS_MODE: 'local-ca', BERTH_CONSOLE_URL: `http://127.0.0.1:${consolePort}`, BERTH_API_HOST: '127.0.0.1', BERTH_API_PORT: String(apiPort) }
      });
      await tp.platform.app.listen({ host: '127.0.0.1', port: apiPort });
    })()
  ]);
  web = await startConsole({ BERTH_API_URL: `http://127.0.0.1:${apiPort}`, PORT: consolePort, ORIGIN: tp.config.consoleUrl });
  // Chromium on Linux reads the CAs a user trusts from $HOME/.pki/nssdb.
  home = await mkdtemp(path.join(os.tmpdir(), 'berth-tlsb-home-'));
  const nssdb = path.join(home, '.pki/nssdb');
  await mkdir(nssdb, { recursive: true });
  await run('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
  await run('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'Berth test CA', '-i', path.join(tp.config.home, 'tls/ca.crt')]);
  trusting = await launchBrowser({ env: { ...process.env, HOME: home }, args: RESOLVE });
});

t.teardown(async () => {
  await trusting?.close();
  await web?.stop();
  await tp?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

t.test('Chromium trusting the local CA loads a team page over HTTPS; one without it is refused', async (t) => {
  const { operation } = await tp.platform.tenants.create({ slug });
  t.equal((await operationEnd(tp.platform.events, operation.id)).type, 'operation.succeeded');
  const url = `https://${slug}.${tp.config.baseDomain}:${tp.nginx.httpsPort}/signin`;
  t.equal(tp.config.tls.mode, 'local-ca');

  const page = await (await trusting.newContext()).newPage();
  const res = await navigate(page, url);
  t.equal(res?.status(), 200);
  t.equal(new URL(page.url()).protocol, 'https:');
  const security = await res!.securityDetails();
  t.match(security?.issuer, /Berth local CA/, 'served with the local CA\'s certificate');
  t.equal(res!.headers()['strict-transport-security'], 'max-age=31536000');
  t.match(await page.title(), /\S/, 'the page rendered');

  // Plain HTTP in the browser ends up on HTTPS (the 308).
  const redirected = await navigate(page, `http://${slug}.${tp.config.baseDomain}:${tp.nginx.port}/signin`);
  t.equal(redirected?.status(), 200);
  t.equal(page.url(), url);

  const untrusting = await launchBrowser({ env: { ...process.env, HOME: path.join(home, 'elsewhere') }, args: RESOLVE });
  t.teardown(() => untrusting.close());
  const other = await (await untrusting.newContext()).newPage();
  await t.rejects(navigate(other, url), /ERR_CERT_AUTHORITY_INVALID/, 'without the CA the certificate is not trusted (the check can fail)');
});

t.test('the console over HTTPS: signing in sets a Secure session cookie', async (t) => {
  const { operators } = tp.platform.operators;
  const { setupUrl } = await operators.bootstrap({ email: EMAIL, name: 'Tess Tls' });
  t.match(setupUrl, new RegExp(`^https://${tp.config.tls.consoleHost}:${tp.nginx.httpsPort}/setup/`), 'setup links go to the https console');
  const token = setupUrl.split('/setup/')[1]!;
  const { totpSecret } = await operators.setupStart(token);
  await operators.setupFinish({ token, password: PASSWORD, code: authenticator.generate(totpSecret) });

  const context = await trusting.newContext();
  const page = await context.newPage();
  await visitSettled(page, `${tp.config.consoleUrl}/login`);
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  // The next step's code: the enrolment used this one, and one step of drift is allowed.
  await page.fill('#code', authenticator.clone({ epoch: Date.now() + TOTP_STEP_SECONDS * 1000 }).generate(totpSecret));
  await page.click('button[type=submit]');
  await page.waitForURL(`${tp.config.consoleUrl}/`);
  const session = (await context.cookies()).find((c) => c.name === 'berth_session');
  t.match(session, { secure: true, httpOnly: true, sameSite: 'Strict' }, 'the session cookie is Secure');
});

t.test('a capacity measurement is refused with TLS on, saying why, before anything is made', async (t) => {
  const before = (await tp.platform.repo.list()).length;
  await t.rejects(tp.platform.measurements.start({ teams: 1, durationSeconds: 10 }), { code: 'MEASUREMENT_UNSUPPORTED', message: /BERTH_TLS_MODE=local-ca .* measure on a platform with BERTH_TLS_MODE=off/ });
  t.equal((await tp.platform.measurements.list(5)).length, 0, 'no measurement recorded');
  t.equal((await tp.platform.repo.list()).length, before, 'no team made');
});
