// The board in a real Chromium (playwright-core, Debian's /usr/bin/chromium,
// never a downloaded browser), through a private nginx at <slug>.berth.localhost
// with the route the orchestrator's RouteManager writes. Two members: what one
// does appears on the other's board without reload.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { silentLogger } from '../../orchestrator/src/log.js';
import { RouteManager } from '../../orchestrator/src/proxy/route-manager.js';
import { startNginx, type TestNginx } from '../../orchestrator/test/helpers/nginx.js';
import { freePort, startApp, stackEnv, type RunningApp } from './helpers/app.js';
import { seedMember } from './helpers/client.js';
import { startServices, type Services } from './helpers/services.js';

const DOMAIN = 'berth.localhost';
const SHOTS = path.resolve(import.meta.dirname, '../../.tap/screenshots');
let services: Services;
let app: RunningApp;
let nginx: TestNginx;
let browser: Browser;
let home: string;
const ownerToken = randomBytes(32).toString('base64url');

t.before(async () => {
  services = await startServices('browser');
  home = await mkdtemp(path.join(os.tmpdir(), 'berth-browser-'));
  nginx = await startNginx(home);
  const origin = `http://${services.slug}.${DOMAIN}:${nginx.port}`;
  const env = stackEnv(services, 'team');
  await seedMember(env.MONGO_URL, 'ben@example.com', 'ben password 1');
  app = await startApp({ ...env, ORIGIN: origin, OWNER_EMAIL: 'olga@example.com', OWNER_SETUP_TOKEN: ownerToken }, { port: await freePort() });
  const routes = new RouteManager({ controlSocket: nginx.controlSocket, tableFile: nginx.tableFile, baseDomain: DOMAIN, log: silentLogger });
  await routes.setRoute(services.slug, { kind: 'up', port: app.port });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`]
  });
});

t.teardown(async () => {
  await browser?.close();
  await app?.stop();
  await nginx?.stop();
  await services?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Navigation, then hydration: typing before it would be overwritten by the page's own values. */
async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('html[data-hydrated="true"]').waitFor();
}

const card = (page: Page, column: string, title: string) => page.locator(`section[data-status="${column}"] [data-testid="card"]`, { hasText: title });

t.test('two members use the board through nginx; changes show live', async (t) => {
  const base = `http://${services.slug}.${DOMAIN}:${nginx.port}`;
  // Fresh profiles: each context is its own user-data, nothing shared.
  const olga = await (await browser.newContext()).newPage();
  const ben = await (await browser.newContext()).newPage();

  await visit(olga, `${base}/welcome/${ownerToken}`);
  t.match(await olga.textContent('h1'), 'Welcome, team owner');
  await olga.fill('#name', 'Olga');
  await olga.fill('#password', 'olga password');
  await olga.fill('#confirm', 'olga password');
  await olga.click('button[type=submit]');
  await olga.waitForURL(`${base}/board`);
  t.pass('the owner set her password through the one-time link, via nginx');

  await visit(ben, `${base}/`);
  t.equal(ben.url(), `${base}/signin`, 'signed out, / leads to sign-in');
  await ben.fill('#email', 'ben@example.com');
  await ben.fill('#password', 'ben password 1');
  await ben.click('button[type=submit]');
  await ben.waitForURL(`${base}/board`);
  await ben.locator('.live[data-live="true"]').waitFor();
  await olga.locator('.live[data-live="true"]').waitFor();
  t.pass('both boards are connected to the live stream');

  await olga.click('button:has-text("Add item")');
  await olga.locator('.field-error', { hasText: 'give the item a title' }).waitFor();
  t.pass('an empty title is explained next to the field');

  await olga.fill('input[name=title]', 'Ship the tenant app');
  await olga.click('button:has-text("Add item")');
  await card(olga, 'todo', 'Ship the tenant app').waitFor();
  await card(ben, 'todo', 'Ship the tenant app').waitFor();
  t.pass('an item Olga creates appears on Ben’s board without reload');

  await card(ben, 'todo', 'Ship the tenant app').getByRole('button', { name: 'Move right' }).click();
  await card(olga, 'doing', 'Ship the tenant app').waitFor();
  t.pass('Ben moves it to Doing; Olga sees it move');

  await card(olga, 'doing', 'Ship the tenant app').locator('.title').click();
  await olga.fill('#edit-title', 'Ship the tenant app v1');
  await olga.fill('#edit-description', 'with attachments');
  await olga.click('[data-testid=editor] button:has-text("Save")');
  await card(ben, 'doing', 'Ship the tenant app v1').waitFor();
  t.pass('an edit shows on the other board');
  t.equal(await olga.inputValue('#edit-title'), 'Ship the tenant app v1', 'the editor keeps the saved values');
  t.match(await olga.textContent('header .me'), 'Olga (owner)', 'the name chosen on the welcome page');

  await olga.setInputFiles('#upload', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('release notes') });
  await olga.locator('[data-testid=editor] a', { hasText: 'notes.txt' }).waitFor();
  const download = olga.waitForEvent('download');
  await olga.locator('[data-testid=editor] a', { hasText: 'notes.txt' }).click();
  const file = await (await download).path();
  t.equal((await import('node:fs')).readFileSync(file, 'utf8'), 'release notes', 'the attachment uploads and downloads through nginx');

  await olga.fill('input[name=title]', 'Second item');
  await olga.click('button:has-text("Add item")');
  await card(ben, 'todo', 'Second item').waitFor();
  await ben.fill('[data-testid=filter-text]', 'tenant');
  await card(ben, 'todo', 'Second item').waitFor({ state: 'detached' });
  t.equal(await ben.locator('[data-testid=card]').count(), 1, 'the filter leaves only the matching item');
  await ben.fill('[data-testid=filter-text]', '');

  await olga.screenshot({ path: path.join(SHOTS, 'board-olga.png'), fullPage: true });
  await ben.screenshot({ path: path.join(SHOTS, 'board-ben.png'), fullPage: true });

  olga.once('dialog', (dialog) => void dialog.accept());
  await olga.click('[data-testid=editor] button:has-text("Delete item")');
  await card(ben, 'doing', 'Ship the tenant app v1').waitFor({ state: 'detached' });
  t.pass('a deletion disappears from the other board');

  await olga.click('button:has-text("Sign out")');
  await olga.waitForURL(`${base}/signin`);
  t.pass('sign-out lands on the sign-in page');
});
