// The console end to end in Debian's Chromium: the real console (built,
// `node console/server.js`) in front of a real orchestrator (in-process, its
// own platform database, nginx and Docker stacks). Enrol the first operator
// with a real TOTP code, sign in, see a replayed code refused, watch a tenant
// made with the CLI appear on the dashboard without a reload, open a shell in
// its app container, see its stored bytes against its plan's quota, stop it
// from its page, and sign out.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { authenticator } from 'otplib';
import { TOTP_STEP_SECONDS } from '../../orchestrator/src/operators/totp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { berth } from '../../orchestrator/test/helpers/berth-cli.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { freePort } from '../../orchestrator/test/helpers/nginx.js';
import { platformEnv, startTestPlatform, type TestPlatform } from '../../orchestrator/test/helpers/platform.js';
import { throughNginx } from '../../orchestrator/test/helpers/through-nginx.js';
import { launchBrowser, visit } from './helpers/browser.js';
import { requireConsoleBuild, ROOT, startConsole, type RunningConsole } from './helpers/console.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
const EMAIL = 'olga@example.com';
const PASSWORD = 'correct horse battery';
const run = promisify(execFile);

let tp: TestPlatform;
let web: RunningConsole;
let browser: Browser;
let apiUrl: string;
const slug = testSlug('con');

t.before(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  await Promise.all([
    requireConsoleBuild(),
    (async () => {
      tp = await startTestPlatform('console', { consoleUrl: origin });
      await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
      apiUrl = `http://127.0.0.1:${(tp.platform.app.server.address() as AddressInfo).port}`;
      // Health probes and the stats collector: the dashboard shows what they publish.
      await tp.platform.startLoops();
    })()
  ]);
  web = await startConsole({ BERTH_API_URL: apiUrl, PORT: port, ORIGIN: origin });
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
});

t.teardown(async () => {
  await browser?.close();
  await web?.stop();
  await tp?.close();
});

/** The bootstrap command, pointed at this test's platform as the crash-recovery test does. */
async function bootstrapOperator(): Promise<string> {
  const c = tp.config;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'orchestrator/src/cli/berth.ts'), 'admin', 'operator', 'bootstrap', '--email', EMAIL, '--name', 'Olga Ops'], {
    cwd: ROOT,
    env: platformEnv(c, { BERTH_CONSOLE_URL: web.url })
  });
  return stdout.trim();
}

/**
 * The code of the step after now's: one no one has used yet (the enrolment
 * used now's step at the latest), which the platform accepts since it allows
 * one step of drift either way, so the test never waits for a new 30 s step.
 */
function nextStepCode(secret: string): string {
  return authenticator.clone({ epoch: Date.now() + TOTP_STEP_SECONDS * 1000 }).generate(secret);
}

async function signIn(page: Page, code: string): Promise<void> {
  await visit(page, `${web.url}/login`);
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await page.fill('#code', code);
  await page.click('button[type=submit]');
}

let secret = '';
let context: BrowserContext;
let page: Page;

t.test('enrol from the setup link with a real TOTP code, sign in; a replayed code is refused', async (t) => {
  const link = await bootstrapOperator();
  t.match(link, new RegExp(`^${web.url}/setup/[A-Za-z0-9_-]{22,}$`), 'the bootstrap command prints a link to this console');

  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  await visit(page, link);
  t.ok(await page.locator('.qr img').isVisible(), 'the QR code is shown');
  secret = (await page.locator('[data-testid=totp-secret]').innerText()).trim();
  t.match(secret, /^[A-Z2-7]{16,}$/, 'and the secret, to type by hand');
  await page.fill('#password', 'short');
  await page.fill('#repeat', 'short');
  await page.fill('#code', '123456');
  await page.click('button[type=submit]');
  t.match(await page.locator('.field-error').innerText(), /at least 12/, 'a short password is explained next to the field');

  const enrolCode = authenticator.generate(secret);
  await page.fill('#password', PASSWORD);
  await page.fill('#repeat', PASSWORD);
  await page.fill('#code', enrolCode);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/login\?enrolled=1$/);
  t.match(await page.locator('.notice.ok').innerText(), /account is active/);

  const code = nextStepCode(secret);
  t.not(code, enrolCode, 'another step, another code');
  await signIn(page, code);
  await page.waitForURL(`${web.url}/`);
  t.match(await page.locator('header.top .who').innerText(), /Olga Ops/, 'signed in');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'berth_session');
  t.match(session, { httpOnly: true, sameSite: 'Strict', path: '/' }, 'the session cookie is HttpOnly and SameSite=Strict');
  t.match(session?.value, /^bsess_/);
  t.equal(await page.evaluate(() => document.cookie.includes('berth_session')), false, "page scripts cannot read the session");

  // The same code again, from another browser: refused, and said so next to the field.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, code);
  await otherPage.locator('[data-testid=code-error]').waitFor();
  t.match(await otherPage.locator('[data-testid=code-error]').innerText(), /already used/);
  t.match(otherPage.url(), /\/login$/, 'still on the sign-in page');
  await other.close();
});

t.test('a tenant created with the CLI appears on the dashboard live, without a reload', async (t) => {
  await visit(page, `${web.url}/`);
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const created = berth(['tenant', 'create', slug, '--name', 'Console Test', '--wait'], { BERTH_URL: apiUrl, BERTH_TOKEN: tp.token });
  const row = page.locator(`[data-slug="${slug}"]`);
  await row.waitFor({ timeout: 30_000 });
  t.pass('the row appeared');
  const result = await created;
  t.equal(result.code, 0, `the CLI created it: ${result.stderr}`);
  await page.locator(`[data-slug="${slug}"][data-phase=running]`).waitFor({ timeout: 30_000 });
  t.match(await row.innerText(), /Console Test/);
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the same page: no reload happened');

  await page.fill('#q', 'no-such-team');
  t.equal(await row.count(), 0, 'search narrows the list');
  await page.fill('#q', slug.slice(0, 8));
  await page.selectOption('#phase', 'running');
  await row.waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'dashboard.png') });
  await page.fill('#q', '');
  await page.selectOption('#phase', '');
});

t.test('the Activity column and the team page show requests through nginx, live', async (t) => {
  for (let i = 0; i < 3; i++) t.equal((await throughNginx(tp, slug, 'GET', '/healthz')).status, 200);
  const cell = page.locator(`[data-slug="${slug}"] [data-testid=activity]`);
  // The stats loop reads nginx every BERTH_STATS_INTERVAL_MS and publishes tenant.activity.
  await page.waitForFunction((sel) => /\d+ s ago · [1-9]\d* req/.test(document.querySelector(sel)?.textContent ?? ''),
    `[data-slug="${slug}"] [data-testid=activity]`, { timeout: 60_000 });
  t.match(await cell.innerText(), /^\d+ s ago · [1-9]\d* req/, 'last request and requests, without a reload');
  const requests = tp.platform.activity.activity(slug).requests;
  t.ok(requests >= 3, `${requests} requests counted`);
  await visit(page, `${web.url}/tenants/${slug}`);
  t.equal(Number(await page.locator('[data-testid=activity-requests]').innerText()), requests);
  t.equal((await page.locator('[data-testid=activity-websockets]').innerText()).trim(), '0');
  t.match(await page.locator('[data-testid=activity-last]').innerText(), /s ago$/);
  await visit(page, `${web.url}/`);
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
});

t.test('a terminal in the app container: type a command, read its output from the page', async (t) => {
  await page.click(`[data-slug="${slug}"]`);
  await page.waitForURL(`${web.url}/tenants/${slug}`);
  await page.locator('html[data-hydrated="true"]').waitFor();
  await page.click('button:has-text("Open terminal")');
  const rows = page.locator('[data-testid=terminal] .xterm-rows');
  await rows.waitFor();
  await page.locator('[data-testid=terminal] .xterm-helper-textarea').focus();
  // Wait for a prompt before typing, so nothing typed is lost to a shell still starting.
  await t.resolves(page.waitForFunction(() => /[$#]\s*$/m.test(document.querySelector('[data-testid=terminal] .xterm-rows')?.textContent ?? ''), null, { timeout: 20_000 }));
  await page.keyboard.type('echo berth-$RANDOM');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /berth-\d+/.test(document.querySelector('[data-testid=terminal] .xterm-rows')?.textContent ?? ''), null, { timeout: 15_000 });
  const text = await rows.innerText();
  t.match(text, /berth-\d+/, 'the shell ran it and the page shows the output');

  await page.locator('[data-testid=log]').filter({ hasText: /\S/ }).waitFor({ timeout: 20_000 });
  t.pass('the log tail shows the app log');
  await page.screenshot({ path: path.join(SHOTS, 'tenant.png'), fullPage: true });
  await page.click('button:has-text("Close terminal")');
});

t.test('its page shows its stored bytes against its plan\'s quota, with a bar', async (t) => {
  await visit(page, `${web.url}/tenants/${slug}`);
  const use = page.locator('[data-testid=storage-use]');
  await use.waitFor({ timeout: 20_000 });
  t.match(await use.innerText(), /^0 B of 1\.0 GiB used \(0\.0%\)$/, 'an empty bucket of the starter plan\'s 1 GiB');
  const meter = page.locator('[data-testid=storage] [role=meter]');
  t.equal(await meter.getAttribute('aria-valuemax'), String(1024 ** 3));
  t.equal(await meter.getAttribute('aria-valuenow'), '0');
  t.notOk(await page.locator('[data-testid=storage] .notice.error').count(), 'measured without an error');
});

t.test('stop it from its page: progress from events, then phase stopped, on the dashboard too', async (t) => {
  await page.click('section[aria-label=Actions] button:has-text("Stop")');
  await page.click('button:has-text("Stop team")');
  await page.locator('[data-testid=progress][data-outcome=ok]').waitFor({ timeout: 90_000 });
  t.match(await page.locator('[data-testid=progress]').innerText(), /Stop finished in .* the team is stopped/);
  t.equal((await page.locator('[data-testid=phase]').innerText()).trim(), 'stopped');
  t.match(await page.locator('[data-testid=timeline]').innerText(), /phase running → stopped/, 'the timeline shows the change');
  await page.screenshot({ path: path.join(SHOTS, 'tenant-stopped.png'), fullPage: true });
  await page.click('a:has-text("All teams")');
  await page.locator(`[data-slug="${slug}"][data-phase=stopped]`).waitFor();
  t.pass('the dashboard shows it stopped');
});

t.test('templates, operators and the audit log', async (t) => {
  await visit(page, `${web.url}/templates`);
  t.ok(await page.locator('[data-testid=template]').count() >= 1, 'at least one template with its plans');
  t.match(await page.locator('main').innerText(), /starter/);

  await visit(page, `${web.url}/operators`);
  await page.fill('#name', 'Ben Backup');
  await page.fill('#email', 'ben@example.com');
  await page.click('button:has-text("Add and make a setup link")');
  const link = await page.locator('[data-testid=setup-url]').inputValue();
  t.match(link, new RegExp(`^${web.url}/setup/`), 'the one-time link to hand over');
  t.match(await page.locator('table').innerText(), /Ben Backup/);

  await visit(page, `${web.url}/audit?tenant=${slug}`);
  t.match(await page.locator('table').innerText(), /actions/, 'the stop is in the audit log');
});

t.test('WebSockets: only from this origin, only with a session', async (t) => {
  const session = (await context.cookies()).find((c) => c.name === 'berth_session')!.value;
  const status = (origin: string, cookie?: string) => new Promise<number>((resolve) => {
    const ws = new WebSocket(`${web.url.replace('http', 'ws')}/ws/events`, { headers: { origin, ...(cookie ? { cookie } : {}) } });
    ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => (ws.close(), resolve(101)));
    ws.on('error', () => resolve(-1));
  });
  t.equal(await status('http://evil.example', `berth_session=${session}`), 403);
  t.equal(await status(web.url), 401);
  t.equal(await status(web.url, `berth_session=${session}`), 101);
});

t.test('sign out ends the session', async (t) => {
  await visit(page, `${web.url}/`);
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(/\/login$/);
  await visit(page, `${web.url}/`);
  t.match(page.url(), /\/login$/, 'the dashboard needs signing in again');
  t.equal((await context.cookies()).some((c) => c.name === 'berth_session'), false, 'the cookie is gone');
  await context.close();
});
