// Sleeping teams in the console, end to end in Debian's Chromium: the real
// console (built, `node console/server.js`) in front of a real orchestrator
// (in-process with its loops, its own platform database, nginx and Docker
// stacks). A team frozen through the API turns "frozen (paused)" on the
// dashboard live, with "wakes on next visit" and its idle time; its page puts
// it to sleep, a visit through nginx wakes it and the page follows live;
// Freeze now and Wake work as Stop/Start do; the sleep-times form refuses a bad
// value with the API's message next to the field and saves, shows and clears
// a good one; the plans page shows each plan's sleep times.
import t from 'tap';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../orchestrator/src/config/config.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { throughNginx } from '../../orchestrator/test/helpers/through-nginx.js';
import { operationEnd } from '../../orchestrator/test/helpers/wait.js';
import { launchBrowser, visit } from './helpers/browser.js';
import { operatorContext, startConsoleStack, type ConsoleStack } from './helpers/stack.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
const slug = testSlug('csl');
let stack: ConsoleStack;
let browser: Browser;
let page: Page;

t.before(async () => {
  const base = loadConfig(process.env);
  // The policy never runs on its own here (an hour between passes, no memory
  // pressure): every sleep in this test is one the test asked for.
  stack = await startConsoleStack('consleep', { sleep: { ...base.sleep, intervalMs: 3_600_000, minAvailableBytes: 0 } }, async (tp) => {
    const { operation } = await tp.platform.tenants.create({ slug, displayName: 'Sleepy Co' });
    const end = await operationEnd(tp.platform.events, operation.id, 240_000);
    if (end.type !== 'operation.succeeded') throw new Error(`the team was not created: ${JSON.stringify(end.data)}`);
    // The wake listener and the stats pass (activity from the edge) run with the loops.
    await tp.platform.startLoops();
  });
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
  const context = await operatorContext(browser, stack, { email: 'sam@example.com', name: 'Sam Sleep' }, { viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
});

t.teardown(async () => {
  await browser?.close();
  await stack?.web.stop();
  await stack?.tp.close();
});

const apiCall = (method: string, url: string, body?: unknown) =>
  fetch(`${stack.apiUrl}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${stack.tp.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
const settled = async () => stack.tp.platform.operations.settled();
const phaseOf = async () => (await stack.tp.platform.repo.get(slug))?.phase;

t.test('a team frozen through the API turns frozen on the dashboard live, with "wakes on next visit" and its idle time', async (t) => {
  t.equal((await throughNginx(stack.tp, slug, 'GET', '/healthz')).status, 200, 'one visit, so it has a last request');
  await visit(page, `${stack.web.url}/`);
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  const row = page.locator(`[data-slug="${slug}"]`);
  await page.locator(`[data-slug="${slug}"][data-phase=running]`).waitFor();

  const res = await apiCall('POST', `/tenants/${slug}/actions/sleep`);
  t.equal(res.status, 202, 'the API took the freeze');
  await page.locator(`[data-slug="${slug}"][data-phase=frozen]`).waitFor({ timeout: 60_000 });
  t.match(await row.locator('.phase').innerText(), /^frozen \(paused\)$/, 'the badge says what frozen means');
  t.match(await row.locator('[data-testid=activity]').innerText(), /wakes on next visit/);
  // The stats pass reads nginx every BERTH_STATS_INTERVAL_MS and publishes tenant.activity.
  await page.waitForFunction((sel) => /wakes on next visit · idle \d+ (s|min)/.test(document.querySelector(sel)?.textContent ?? ''),
    `[data-slug="${slug}"] [data-testid=activity]`, { timeout: 60_000 });
  t.pass('and how long it has been idle');
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'the same page: no reload happened');
  await page.selectOption('#phase', 'frozen');
  t.equal(await page.locator('#phase option[value=frozen]').innerText(), 'frozen (paused)', 'the phase filter uses the same words');
  await row.waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-frozen.png') });
  await page.selectOption('#phase', '');
  await settled();
  t.equal(await phaseOf(), 'frozen');
});

t.test('its page: the phase, "wakes on next visit", the idle time and the freeze in words in the timeline', async (t) => {
  await visit(page, `${stack.web.url}/tenants/${slug}`);
  t.equal((await page.locator('[data-testid=phase]').innerText()).trim(), 'frozen (paused)');
  t.equal((await page.locator('[data-testid=wakes]').innerText()).trim(), 'wakes on next visit');
  t.match(await page.locator('[data-testid=activity-idle]').innerText(), /^(idle \d+ (s|min)|no request yet) · wakes on next visit$/);
  const timeline = await page.locator('[data-testid=timeline]').innerText();
  t.match(timeline, /frozen \(paused\) by an operator/, 'why it sleeps');
  t.match(timeline, /freeze: pausing its containers \(memory kept, no CPU\)/, 'the freeze step in words');
  t.match(timeline, /phase running → frozen \(paused\)/);
  t.ok(await page.locator('button:has-text("Freeze now")').isDisabled(), 'a frozen team cannot be frozen again');
  t.notOk(await page.locator('button:has-text("Wake")').isDisabled(), 'but can be woken');
});

t.test('Put to sleep from its page, then a visit through nginx wakes it and the page follows live', async (t) => {
  await page.click('section[aria-label=Actions] button:has-text("Put to sleep")');
  t.match(await page.locator('form[action="?/act"]').innerText(), /Stop its containers now.*no memory held/s, 'the confirm box says what it does');
  await page.click('button:has-text("Put team to sleep")');
  await page.locator('[data-testid=progress][data-outcome=ok]').filter({ hasText: /finished/ }).waitFor({ timeout: 90_000 });
  t.match(await page.locator('[data-testid=progress]').innerText(), /Sleep \(stop\) finished in .* the team is asleep \(stopped\)\./);
  await page.locator('[data-testid=phase][data-phase=sleeping]').waitFor();
  t.equal((await page.locator('[data-testid=phase]').innerText()).trim(), 'asleep (stopped)');
  t.equal((await page.locator('[data-testid=wakes]').innerText()).trim(), 'wakes on next visit');
  await page.screenshot({ path: path.join(SHOTS, 'tenant-asleep.png'), fullPage: true });
  await settled();
  t.equal(await phaseOf(), 'sleeping');

  const visitor = await throughNginx(stack.tp, slug, 'GET', '/healthz', {}, undefined, 60_000);
  t.equal(visitor.status, 200, 'the visit was held while the team woke, then served');
  await page.locator('[data-testid=phase][data-phase=running]').waitFor({ timeout: 60_000 });
  t.equal(await page.locator('[data-testid=wakes]').count(), 0, 'awake: no "wakes on next visit"');
  t.match(await page.locator('[data-testid=timeline]').innerText(), /phase asleep \(stopped\) → running/, 'the wake in the timeline');
});

t.test('Freeze now and Wake from its page, with progress in words', async (t) => {
  await settled();
  await page.locator('button:has-text("Freeze now"):not([disabled])').waitFor();
  await page.click('button:has-text("Freeze now")');
  await page.click('button:has-text("Freeze team")');
  // The page still shows the sleep's finished progress until the freeze's begins.
  await page.locator('[data-testid=progress][data-outcome=ok]').filter({ hasText: /Freeze finished/ }).waitFor({ timeout: 90_000 });
  t.match(await page.locator('[data-testid=progress]').innerText(), /pausing its containers \(memory kept, no CPU\)[\s\S]*Freeze finished in .* the team is frozen \(paused\)\./);
  await page.locator('[data-testid=phase][data-phase=frozen]').waitFor();

  await page.locator('section[aria-label=Actions] button:has-text("Wake"):not([disabled])').waitFor();
  await page.click('section[aria-label=Actions] button:has-text("Wake")');
  await page.click('button:has-text("Wake team")');
  await page.locator('[data-testid=progress][data-outcome=ok]').filter({ hasText: /Wake finished/ }).waitFor({ timeout: 90_000 });
  t.match(await page.locator('[data-testid=progress]').innerText(), /thawing its containers[\s\S]*Wake finished in .* the team is running\./);
  await page.locator('[data-testid=phase][data-phase=running]').waitFor();
  await settled();
  t.equal(await phaseOf(), 'running');
});

t.test('the sleep-times form: a bad value is refused with the API\'s message next to its field; a good one saves and shows; back to the plan\'s', async (t) => {
  await visit(page, `${stack.web.url}/tenants/${slug}`);
  const card = page.locator('[data-testid=sleep]');
  t.match(await card.locator('[data-testid=sleep-pause]').innerText(), /^15 min\s+from plan starter$/, "the plan's time (Berth's default)");
  t.equal(await card.locator('[data-testid=sleep-pause]').getAttribute('data-source'), 'plan');
  t.match(await card.locator('[data-testid=sleep-stop]').innerText(), /^12 h\s+from plan starter$/);

  await page.fill('#sleep-pause', '5x');
  await page.click('button:has-text("Save sleep times")');
  const error = card.locator('[data-testid=sleep-pause-error]');
  await error.waitFor();
  t.match(await error.innerText(), /^body\.pause must match pattern .*30s, 15m, 12h, 7d or never/, "the API's own message, next to the field");
  t.equal(await page.locator('#sleep-pause').getAttribute('aria-invalid'), 'true');
  t.equal(await page.locator('#sleep-pause').inputValue(), '5x', 'what was typed stays, to correct');
  t.equal((await stack.tp.platform.repo.get(slug))?.sleep, undefined, 'nothing was saved');

  await page.fill('#sleep-pause', 'x'.repeat(60_000));
  await page.click('button:has-text("Save sleep times")');
  await page.locator('[data-testid=sleep-pause-error]').filter({ hasText: /far longer/ }).waitFor();
  t.ok((await page.locator('[data-testid=sleep-pause-error]').innerText()).length < 200, 'a 60 KB value is refused by the console before the API, without echoing it');
  await page.fill('#sleep-pause', 'x'.repeat(1 << 20));
  await page.click('button:has-text("Save sleep times")');
  await card.locator('[data-testid=sleep-error]').filter({ hasText: /more than 64 KB/ }).waitFor();
  t.pass('a 1 MB value: the form is refused whole, and said so');
  t.equal((await stack.tp.platform.repo.get(slug))?.sleep, undefined, 'still nothing saved');

  await page.fill('#sleep-pause', '2h');
  await page.fill('#sleep-stop', 'never');
  await page.click('button:has-text("Save sleep times")');
  await card.locator('[data-testid=sleep-saved]').waitFor();
  await page.locator('[data-testid=sleep-pause][data-source=team]').waitFor();
  t.match(await card.locator('[data-testid=sleep-pause]').innerText(), /^2 h\s+the team's own \(plan: 15 min\)$/);
  t.match(await card.locator('[data-testid=sleep-stop]').innerText(), /^never\s+the team's own \(plan: 12 h\)$/);
  t.equal(await card.locator('[data-testid=sleep-pause-error]').count() + await card.locator('[data-testid=sleep-error]').count(), 0, 'the earlier refusals are gone');
  t.match(await page.locator('[data-testid=timeline]').innerText(), /sleep times set: pause after 2h, stop after never \(the team's own: pause, stop\)/);
  const view = await (await apiCall('GET', `/tenants/${slug}`)).json() as { sleep: unknown };
  t.same(view.sleep, { pause: '2h', stop: 'never', override: { pause: '2h', stop: 'never' }, plan: { pause: '15m', stop: '12h' } }, 'the API has them');
  await page.screenshot({ path: path.join(SHOTS, 'tenant-sleep-times.png'), fullPage: true });

  await visit(page, `${stack.web.url}/tenants/${slug}`);
  t.equal(await page.locator('#sleep-pause').inputValue(), '2h', 'a fresh page shows the override in the form');

  await page.click('button:has-text("Use the plan\'s times")');
  await page.locator('[data-testid=sleep-saved]').filter({ hasText: /Back to the plan's times/ }).waitFor();
  await page.locator('[data-testid=sleep-pause][data-source=plan]').waitFor();
  t.match(await card.locator('[data-testid=sleep-stop]').innerText(), /^12 h\s+from plan starter$/);
  t.equal(await page.locator('#sleep-pause').inputValue(), '', 'the form is empty again');
  t.equal((await stack.tp.platform.repo.get(slug))?.sleep, undefined, 'the override is gone');
});

t.test('the plans page shows each plan\'s sleep times beside its limits', async (t) => {
  await visit(page, `${stack.web.url}/templates`);
  for (const plan of ['starter', 'team']) {
    t.equal((await page.locator(`[data-testid=plan-sleep][data-plan=${plan}]`).innerText()).trim(), 'idle: frozen after 15 min, stopped after 12 h', plan);
  }
  await page.screenshot({ path: path.join(SHOTS, 'templates-sleep.png'), fullPage: true });
});
