// The console's Upgrades pages end to end in Debian's Chromium: the real
// console (built, `node console/server.js`) in front of a real orchestrator
// (in-process, its own platform database, nginx and Docker stacks). Start a
// job from the form after its preview, watch each team's progress arrive
// live, approve the canary, roll the job back, then pause and cancel another.
// The operator's session is made by the operators service after a real TOTP
// enrolment (the sign-in page has its own test in console.browser.test.ts).
import t from 'tap';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { authenticator } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { removeVersions, tagVersion, testVersion } from '../../orchestrator/test/helpers/app-versions.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { freePort } from '../../orchestrator/test/helpers/nginx.js';
import { startTestPlatform, type TestPlatform } from '../../orchestrator/test/helpers/platform.js';
import { operationEnd } from '../../orchestrator/test/helpers/wait.js';
import { launchBrowser, visit } from './helpers/browser.js';
import { requireConsoleBuild, startConsole, type RunningConsole } from './helpers/console.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
let tp: TestPlatform;
let web: RunningConsole;
let browser: Browser;
let page: Page;
let V2 = '';
const slugs = [testSlug('cup'), testSlug('cuq')].sort();

t.before(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let apiUrl = '';
  await Promise.all([
    requireConsoleBuild(),
    (async () => {
      tp = await startTestPlatform('conup', { consoleUrl: origin });
      await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
      apiUrl = `http://127.0.0.1:${(tp.platform.app.server.address() as AddressInfo).port}`;
      V2 = await tagVersion(testVersion('con'));
      const ops = await Promise.all(slugs.map(async (slug) => (await tp.platform.tenants.create({ slug })).operation.id));
      for (const op of ops) if ((await operationEnd(tp.platform.events, op, 240_000)).type !== 'operation.succeeded') throw new Error('a tenant was not created');
    })()
  ]);
  web = await startConsole({ BERTH_API_URL: apiUrl, PORT: port, ORIGIN: origin });
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });

  const ops = tp.platform.operators;
  const { setupUrl, operator } = await ops.operators.bootstrap({ email: 'uma@example.com', name: 'Uma Upgrades' });
  const token = setupUrl.split('/setup/')[1]!;
  const { totpSecret } = await ops.operators.setupStart(token);
  await ops.operators.setupFinish({ token, password: 'correct horse battery', code: authenticator.generate(totpSecret) });
  const { session } = await ops.sessions.create(operator.id);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.addCookies([{ name: 'berth_session', value: session, url: web.url, httpOnly: true, sameSite: 'Strict' }]);
  page = await context.newPage();
});

t.teardown(async () => {
  await browser?.close();
  await web?.stop();
  await tp?.close();
  if (V2) await removeVersions(V2);
});

const row = (slug: string, state: string) => page.locator(`[data-testid=job-tenant][data-slug="${slug}"][data-state=${state}]`);
const jobState = (state: string, timeout = 120_000) => page.locator(`[data-testid=job-state][data-state=${state}]`).waitFor({ timeout });

t.test('start a job after its preview, watch the canary live, approve it, roll the job back', async (t) => {
  await visit(page, `${web.url}/upgrades`);
  t.match(await page.locator('header.top nav').innerText(), /Upgrades/, 'a link in the navigation');
  await page.selectOption('#toVersion', V2);
  t.ok(await page.locator('button:has-text("Start upgrade")').isDisabled(), 'no start before a preview');
  await page.click('button:has-text("Preview")');
  await page.locator('[data-testid=preview-tenant]').nth(1).waitFor();
  t.same(await page.locator('[data-testid=preview-tenant]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-slug'))), slugs, 'the preview names both teams');
  t.match(await page.locator('[data-testid=preview]').innerText(), /2 teams will be upgraded, the canary first/);
  await page.click('button:has-text("Start upgrade")');
  await page.waitForURL(/\/upgrades\/[0-9a-f-]{36}$/);
  await page.locator('html[data-hydrated="true"]').waitFor();
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  await jobState('awaiting-approval');
  await row(slugs[0]!, 'succeeded').waitFor();
  await row(slugs[1]!, 'pending').waitFor();
  t.pass('the canary upgraded, the other team waits: shown live');
  await page.screenshot({ path: path.join(SHOTS, 'upgrade-awaiting-approval.png'), fullPage: true });
  await page.click('button:has-text("Approve canary")');
  await jobState('succeeded');
  await row(slugs[1]!, 'succeeded').waitFor();
  t.match(await page.locator('[data-testid=counts]').innerText(), /^2 upgraded, 0 upgrading, 0 waiting, 0 failed, 0 skipped$/);
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'progress came by events, without a reload');
  for (const slug of slugs) t.equal((await tp.platform.repo.get(slug))?.appVersion, V2, `${slug} runs ${V2}`);
  await page.screenshot({ path: path.join(SHOTS, 'upgrade-succeeded.png'), fullPage: true });

  await page.click('button:has-text("Roll back the job")');
  await page.locator('h1:has-text("Rollback")').waitFor();
  await jobState('succeeded');
  for (const slug of slugs) t.equal((await tp.platform.repo.get(slug))?.appVersion, tp.config.defaultAppVersion, `${slug} is back on its earlier version`);
});

t.test('pause a job waiting for approval, then cancel it', async (t) => {
  await visit(page, `${web.url}/upgrades`);
  await page.selectOption('#toVersion', V2);
  await page.click('button:has-text("Preview")');
  await page.locator('[data-testid=preview-tenant]').nth(1).waitFor();
  await page.click('button:has-text("Start upgrade")');
  await page.waitForURL(/\/upgrades\/[0-9a-f-]{36}$/);
  await page.locator('html[data-hydrated="true"]').waitFor();
  await jobState('awaiting-approval');
  await page.click('form[action="?/act"] button:has-text("Pause")');
  await jobState('paused', 10_000);
  await page.click('form[action="?/act"] button:has-text("Cancel")');
  await jobState('cancelled', 10_000);
  await row(slugs[1]!, 'skipped').waitFor();
  t.pass('the team that had not started is skipped');
  t.equal((await tp.platform.repo.get(slugs[1]!))?.appVersion, tp.config.defaultAppVersion);
});
