// The onboarding wizard end to end in Debian's Chromium: the real console
// (built, `node console/server.js`) in front of a real orchestrator (its own
// platform database, nginx and Docker stacks). No SMTP server is configured,
// so the platform's own SMTP sink (smtp-server) receives what nodemailer
// sends, and an operator reads the code on the console's Mail page. The
// widget solves the real ALTCHA challenge in the page. The first provisioning
// fails for real (the app image is missing: the test gives the platform an
// image name of its own), the page says so and offers a retry; the tab is
// closed during the retry and reopened; the team ends healthy behind nginx
// and the owner sets a password through the one-time link.
import t from 'tap';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { httpGet } from '../../orchestrator/src/runtime/http-get.js';
import { config as base, docker, testSlug } from '../../orchestrator/test/helpers/docker.js';
import type { TestPlatform } from '../../orchestrator/test/helpers/platform.js';
import { until } from '../../orchestrator/test/helpers/wait.js';
import { launchBrowser, visit } from './helpers/browser.js';
import type { RunningConsole } from './helpers/console.js';
import { operatorContext, startConsoleStack, type ConsoleStack } from './helpers/stack.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
const EMAIL = 'founder@example.com';
const slug = testSlug('onbw');
const appRepo = `berth-test/onbw-app-${slug}`;

let tp: TestPlatform;
let web: RunningConsole;
let browser: Browser;
let wizard: BrowserContext;
let page: Page;
let stack: ConsoleStack;
const appImage = () => `${appRepo}:${tp.config.defaultAppVersion}`;

t.before(async () => {
  stack = await startConsoleStack('onboard', { images: { ...base.images, appRepo } });
  ({ tp, web } = stack);
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
});

t.teardown(async () => {
  await browser?.close();
  await web?.stop();
  await tp?.close();
  await docker('image', 'rm', appImage()).catch(() => '');
});

/** The newest code mailed to EMAIL, as an operator reads it on the console's Mail page. */
async function codeFromMailPage(operator: BrowserContext): Promise<string> {
  const mailPage = await operator.newPage();
  await visit(mailPage, `${web.url}/mail`);
  const row = mailPage.locator(`[data-testid=mail][data-to="${EMAIL}"]`).first();
  await row.waitFor();
  await row.locator('button').click();
  const text = await mailPage.locator('[data-testid=mail-text]').innerText();
  await mailPage.close();
  return /^\s*(\d{6})\s*$/m.exec(text)![1]!;
}

t.test('email + the real captcha → a code, read from the mail the sink caught; a wrong code is explained next to the field', async (t) => {
  wizard = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  page = await wizard.newPage();
  await visit(page, `${web.url}/onboard`);
  await page.fill('#email', 'not-an-address');
  await page.click('button:has-text("Email me a code")');
  t.match(await page.locator('.field-error[data-field=email]').innerText(), /email address like/, 'a bad address is explained next to its field');

  await page.fill('#email', EMAIL);
  await page.locator('altcha-widget label').filter({ hasText: /not a robot/i }).click();
  await page.waitForFunction(() => (document.querySelector('altcha-widget') as unknown as { getState(): string }).getState() === 'verified', null, { timeout: 60_000 });
  t.pass('the widget solved the proof of work in the page');
  await page.click('button:has-text("Email me a code")');
  await page.locator('[data-testid=email]').waitFor();
  t.equal(await page.locator('[data-testid=email]').innerText(), EMAIL);
  const cookie = (await wizard.cookies()).find((c) => c.name === 'berth_signup');
  t.match(cookie, { httpOnly: true, sameSite: 'Strict', value: /^bsig_/ }, 'the sign-up lives in an HttpOnly cookie');

  const operator = await operatorContext(browser, stack, { email: 'ops@example.com', name: 'Ops' });
  const code = await codeFromMailPage(operator);
  await operator.close();
  t.match(code, /^\d{6}$/, 'the operator reads the code on the Mail page');

  await page.fill('#code', code === '000000' ? '111111' : '000000');
  await page.click('button:has-text("Verify")');
  t.match(await page.locator('.field-error[data-field=code]').innerText(), /not the code we sent; 4 tries left/);
  await page.fill('#code', code);
  await page.click('button:has-text("Verify")');
  await page.locator('#displayName').waitFor();
  t.pass('verified: the team step');
});

t.test('team: a slug suggested from the name, reserved words explained with an alternative, availability as they type', async (t) => {
  await page.locator('#displayName').pressSequentially('Ünïcode Friends');
  await until(async () => (await page.inputValue('#slug')) === 'unicode-friends', 10_000, 'the suggested slug');
  t.equal(await page.locator('[data-testid=slug-status]').getAttribute('data-available'), 'true', 'and it is free');

  await page.fill('#slug', '');
  await page.locator('#slug').pressSequentially('admin');
  await page.locator('[data-testid=slug-status][data-available=false]').waitFor();
  t.match(await page.locator('[data-testid=slug-status]').innerText(), /reserved for the platform/);
  await page.click('button:has-text("Use “admin-team”")');
  await page.locator('[data-testid=slug-status][data-available=true]').waitFor();
  t.equal(await page.inputValue('#slug'), 'admin-team', 'one click takes the free alternative');

  await page.fill('#slug', '');
  await page.locator('#slug').pressSequentially(slug);
  await page.locator('[data-testid=slug-status][data-available=true]').waitFor();
  await page.check('input[name=plan][value=starter]');
  await page.click('button:has-text("Create my team")');
  await page.locator('[data-testid=progress]').waitFor();
  t.pass('provisioning started');
});

t.test('a failed provisioning: the steps so far, a plain message, and a retry; nothing half made', async (t) => {
  await page.locator('[data-testid=progress][data-outcome=failed]').waitFor({ timeout: 60_000 });
  t.match(await page.locator('[data-testid=failure]').innerText(), /Setting up your team failed: .*image.*Nothing was left half made/);
  await page.screenshot({ path: path.join(SHOTS, 'onboard-failed.png'), fullPage: true });
  // The images are checked before anything is made, so no step had finished.
  t.equal(await page.locator('[data-state=done]').count(), 0, 'no step had finished: the missing image was found before any object was made');
  t.equal(await page.locator('[data-state=failed]').count(), 1, 'one step is marked failed');
  t.same(await tp.platform.runtime.listVolumes({ 'berth.platform': tp.config.platformId, 'berth.tenant': slug }), [], 'its volumes were removed');
});

t.test('retry, close the tab, come back: provisioning went on; live steps to a running team and its URL', async (t) => {
  await docker('tag', `${base.images.appRepo}:${tp.config.defaultAppVersion}`, appImage());
  await page.click('button:has-text("Try again")');
  await page.locator('[data-testid=progress][data-outcome=provisioning]').waitFor();
  await page.close(); // closing the tab never stops provisioning

  page = await wizard.newPage();
  await visit(page, `${web.url}/onboard`);
  await page.locator('[data-testid=progress]').waitFor();
  t.match(await page.locator('[data-testid=progress]').getAttribute('data-outcome'), /^(provisioning|ready)$/, 'the same sign-up, where it stands');
  const returnedDuring = (await page.locator('[data-testid=progress]').getAttribute('data-outcome')) === 'provisioning';
  if (returnedDuring) {
    await page.locator('[data-testid=live][data-status=open]').waitFor({ timeout: 10_000 });
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  }
  const progress = page.locator('[data-testid=progress]');
  await page.locator('[data-testid=progress][data-outcome=ready], [data-testid=progress][data-outcome=failed]').waitFor({ timeout: 120_000 });
  const outcome = await progress.getAttribute('data-outcome');
  t.equal(outcome, 'ready', outcome === 'ready' ? 'the team is ready' : `the retry failed too: ${JSON.stringify((await tp.platform.repo.get(slug))?.lastError)}`);
  if (outcome !== 'ready') return;
  if (returnedDuring) t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the steps and the end arrived live over the socket, without a reload');
  t.equal(await page.locator('.steps li[data-state=done]').count(), 7, 'network, volumes, database, storage, app, health, route: all done');
  const url = await page.locator('[data-testid=team-url]').getAttribute('href');
  t.equal(url, `http://${slug}.${tp.config.baseDomain}:${tp.nginx.port}/`);
  await page.screenshot({ path: path.join(SHOTS, 'onboard-ready.png'), fullPage: true });

  const health = await httpGet(`http://127.0.0.1:${tp.nginx.port}/healthz`, 10_000, { host: `${slug}.${tp.config.baseDomain}` });
  t.equal(health.status, 200, 'healthy through nginx');
  t.match(await tp.platform.repo.get(slug), { phase: 'running', ownerEmail: EMAIL });
});

t.test('the owner sets a password through the one-time link (Chromium resolves *.localhost to this host)', async (t) => {
  const setupUrl = (await page.locator('[data-testid=setup-url]').getAttribute('href'))!;
  t.match(setupUrl, new RegExp(`^http://${slug}\\.`));
  const owner = await wizard.newPage();
  await owner.goto(setupUrl);
  t.match(await owner.locator('main').innerText(), new RegExp(`Choose a password for ${EMAIL.replace('.', '\\.')}`));
  await owner.fill('#password', 'a long owner password');
  await owner.fill('#confirm', 'a long owner password');
  await owner.click('button:has-text("Set password and continue")');
  await owner.waitForURL(/\/board$/);
  t.pass('signed in to the team\'s own app');
  await owner.goto(setupUrl);
  t.match(await owner.locator('main').innerText(), /does not work/, 'the link worked once');
  await owner.close();
});
