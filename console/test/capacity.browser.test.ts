// The console's Capacity page in Debian's Chromium, against a real
// orchestrator (in-process, its own database, nginx and Docker stacks): the
// last measurement's report with its plots, drawn from a report recorded on
// this machine (fixtures/capacity-measurement.json, a `berth capacity measure
// --check` run), with a screenshot; and the measure form: bad values are
// refused with what to do, a measurement started from the page shows as
// running and is cancelled from it, its load team removed.
import t from 'tap';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runtime } from '../../orchestrator/test/helpers/docker.js';
import { until } from '../../orchestrator/test/helpers/wait.js';
import type { Measurement } from '../../orchestrator/src/contract/index.js';
import { launchBrowser, visit } from './helpers/browser.js';
import { operatorContext, startConsoleStack, type ConsoleStack } from './helpers/stack.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
const recorded = JSON.parse(await readFile(path.resolve(import.meta.dirname, 'fixtures/capacity-measurement.json'), 'utf8')) as Measurement;
let stack: ConsoleStack;
let browser: Browser;
let page: Page;

t.before(async () => {
  stack = await startConsoleStack('concap');
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
  page = await (await operatorContext(browser, stack, { email: 'cora@example.com', name: 'Cora Capacity' }, { viewport: { width: 1400, height: 1000 } })).newPage();
});

t.teardown(async () => {
  await browser?.close();
  await stack?.web.stop();
  await stack?.tp.close();
});

t.test('the last measurement\'s report: the prediction, the check, every plot drawn; a screenshot', async (t) => {
  const { id, ...stored } = recorded;
  await stack.tp.platform.db.db.collection('capacity_measurements').insertOne({ _id: id as never, ...stored });
  await visit(page, `${stack.web.url}/capacity`);
  const report = page.locator('[data-testid=report]');
  t.equal(await report.getAttribute('data-state'), 'succeeded');
  t.equal(await page.locator('[data-testid=awake]').innerText(), String(recorded.prediction!.awake), 'the predicted awake count');
  t.match(await page.locator('[data-testid=check]').innerText(), /^Check: (first prediction|the prediction)/, 'the check\'s verdict');
  t.equal(await page.locator('[data-testid=checked-count]').innerText(), String(recorded.check!.predicted), 'the count the check held');
  t.equal(await page.locator('[data-testid=rounds] li').count(), recorded.check!.rounds.length, 'every round of the check');
  t.equal(await page.locator('[data-testid=run]').count(), recorded.runs.length, 'a row per run');
  const first = page.locator('details.run').first();
  for (const plot of ['plot-cpu', 'plot-memory', 'plot-latency', 'plot-disk']) {
    const points = await first.locator(`[data-testid=${plot}] polyline`).first().getAttribute('points');
    t.ok((points ?? '').split(' ').length >= 5, `${plot}: a line of ${(points ?? '').split(' ').length} points`);
  }
  const lastCpu = recorded.runs[0]!.host.length;
  t.equal((await first.locator('[data-testid=plot-cpu] polyline').first().getAttribute('points'))!.split(' ').length, lastCpu, 'one CPU point per host sample');
  for (const strip of ['strip-memory', 'strip-cpu', 'strip-disk']) {
    t.equal(await first.locator(`[data-testid=${strip}] circle`).count(), recorded.runs[0]!.perTeam.length, `${strip}: a dot per team`);
  }
  const shot = path.join(SHOTS, 'capacity-report.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.ok((await stat(shot)).size > 30_000, 'a screenshot with the plots in it');
});

t.test('the measure form: bad values refused with what to do; a measurement started here is cancelled here', async (t) => {
  await visit(page, `${stack.web.url}/capacity`);
  for (const [teams, minutes, said] of [['0', '1', /^Teams: a whole number from 1 to 200\.$/], ['201', '2', /^Teams: a whole number from 1 to 200\.$/], ['1e9', '3', /^Teams: /], ['2', '61', /^Minutes: a whole number from 1 to 60\.$/]] as const) {
    // The browser's own number checks would stop the post: the server's answer is what is tested.
    await page.locator('form[action="?/measure"]').evaluate((f) => f.setAttribute('novalidate', ''));
    await page.fill('input[name=teams]', teams);
    await page.fill('input[name=minutes]', minutes);
    await page.click('button:has-text("Start measuring")');
    // Each answer replaces the last: wait for this one's (its field's message) before reading it.
    await page.locator('[data-testid=measure-error]', { hasText: said }).waitFor({ timeout: 10_000 });
    t.match(await page.locator('[data-testid=measure-error]').innerText(), said, `${teams} teams, ${minutes} minutes: refused`);
  }
  t.equal((await stack.tp.platform.measurements.list(5)).filter((m) => m.state === 'running').length, 0, 'nothing started');

  await page.fill('input[name=teams]', '1');
  await page.fill('input[name=minutes]', '1');
  await page.click('button:has-text("Start measuring")');
  await page.locator('button:has-text("Cancel it")').waitFor({ timeout: 15_000 });
  t.pass('the page shows it running, with a cancel');
  const running = (await stack.tp.platform.measurements.list(1))[0]!;
  t.equal(running.state, 'running');
  t.same(running.request, { teams: 1, durationSeconds: 60, members: 5, thinkMs: 3000, check: false, p95LimitMs: 500 });
  await page.click('button:has-text("Cancel it")');
  await page.locator('[data-testid=report][data-state=cancelled]').waitFor({ timeout: 120_000 });
  t.pass('shown cancelled');
  await until(async () => (await runtime.listContainers({ 'berth.platform': stack.tp.config.platformId })).length === 0, 60_000, 'its load team to be gone');
  t.equal((await stack.tp.platform.repo.list()).length, 0, 'no team left in the registry');
});
