// Backups in the console, end to end in Debian's Chromium: the real console
// (built, `node console/server.js`) in front of a real orchestrator
// (in-process, its own platform database, nginx, Docker stacks and backup
// directory) with a real team. From its Backups tab: back up now and see it
// complete in the list; open a restore, see the API's preview (its changes,
// what is lost since) and a copy into a new team previewed too; restore over
// the team with its slug typed and see it go through restoring back to
// running; restore into a new team; download a backup through the console's own route (200,
// application/x-tar, a tar with its manifest); delete one after confirming.
// On the dashboard: "all teams backed up", then a failed backup and an
// overdue team (both made in the platform database directly), linked to the
// Backups tab, and cleared live by the next backup.
import t from 'tap';
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BackupRecord } from '../../orchestrator/src/backups/backups.repository.js';
import { testSlug } from '../../orchestrator/test/helpers/docker.js';
import { throughNginx } from '../../orchestrator/test/helpers/through-nginx.js';
import { operationEnd } from '../../orchestrator/test/helpers/wait.js';
import { launchBrowser, visit } from './helpers/browser.js';
import { operatorContext, startConsoleStack, type ConsoleStack } from './helpers/stack.js';

const SHOTS = path.resolve(import.meta.dirname, 'screenshots');
const slug = testSlug('cbk');
/** A copy of the team, made from its backup. */
const copy = testSlug('cbc');
let stack: ConsoleStack;
let browser: Browser;
let page: Page;

t.before(async () => {
  // No loops: the backup scheduler never takes a backup on its own here; every backup is one the test asked for.
  stack = await startConsoleStack('conbackups', {}, async (tp) => {
    const { operation } = await tp.platform.tenants.create({ slug, displayName: 'Backed Up Co' });
    const end = await operationEnd(tp.platform.events, operation.id, 240_000);
    if (end.type !== 'operation.succeeded') throw new Error(`the team was not created: ${JSON.stringify(end.data)}`);
  });
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
  const context = await operatorContext(browser, stack, { email: 'bea@example.com', name: 'Bea Backups' }, { viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page = await context.newPage();
});

t.teardown(async () => {
  await browser?.close();
  await stack?.web.stop();
  // Every team of this platform (and its volumes), its database and its backup directory go with it.
  await stack?.tp.close();
});

const apiCall = (method: string, url: string) =>
  fetch(`${stack.apiUrl}/api/v1${url}`, { method, headers: { authorization: `Bearer ${stack.tp.token}` } });
const backupsOf = async () => ((await (await apiCall('GET', `/tenants/${slug}/backups`)).json()) as { backups: { id: string; state: string; reason: string }[] }).backups;
const rows = () => page.locator('[data-testid=backup]');

/** Waits for the followed operation to end, however it ends, and says how (its message, when not as `outcome`). */
async function ended(t: Test, what: string, outcome: 'ok' | 'error', timeout: number): Promise<string> {
  const progress = page.locator(`[data-testid=backup-progress][data-what=${what}]:not([data-outcome=running])`);
  await progress.waitFor({ timeout });
  const text = await progress.innerText();
  t.equal(await progress.getAttribute('data-outcome'), outcome, `the ${what} ended ${outcome}`, { text });
  return text;
}

t.test('the dashboard: a new team is backed up within schedule', async (t) => {
  await visit(page, `${stack.web.url}/`);
  const ok = page.locator('[data-testid=backups-card] [data-testid=backups-ok]');
  await ok.waitFor();
  t.equal((await ok.innerText()).trim(), 'All 1 team backed up within schedule.');
});

let first = '';

t.test('Back up now from its Backups tab: progress in words, then complete in the list with its size, pause and app version', async (t) => {
  await visit(page, `${stack.web.url}/tenants/${slug}`);
  await page.click('[data-testid=tab-backups]');
  await page.waitForURL(`${stack.web.url}/tenants/${slug}/backups`);
  await page.locator('html[data-hydrated="true"]').waitFor();
  t.match(await page.locator('[data-testid=backups]').innerText(), /No backups yet/);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  await page.click('button:has-text("Back up now")');
  t.match(await ended(t, 'backup', 'ok', 120_000),
    /freezing its database and storage[\s\S]*reading db-data[\s\S]*uploading to the backup target[\s\S]*Backup complete in [\d.]+ s\./, 'each step in words, then the end');
  await page.locator('[data-testid=backup][data-state=complete]').waitFor({ timeout: 10_000 });
  t.equal(await rows().count(), 1);
  const row = await rows().first().innerText();
  t.match(row, /on demand/);
  t.match(row, new RegExp(stack.tp.config.defaultAppVersion.replace(/\./g, '\\.')));
  t.match(row, /\d+(\.\d)? (KiB|MiB)[\s\S]*of files/, 'its size');
  t.match(row, /\d+ ms|\d\.\d s/, 'how long the team was frozen');
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'the list came back live, without a reload');
  first = (await rows().first().getAttribute('data-id'))!;
  t.match(await backupsOf(), [{ id: first, state: 'complete', reason: 'manual' }], 'the API has it, complete');
});

t.test('Restore…: the preview lists the changes and what is lost; a copy into a new team is previewed too', async (t) => {
  await page.click(`[data-testid=backup][data-id="${first}"] [data-testid=restore-link]`);
  const panel = page.locator(`[data-testid=restore][data-into="${slug}"][data-new-team=false]`);
  await panel.waitFor();
  const changes = await panel.locator('[data-testid=restore-changes]').innerText();
  t.match(changes, new RegExp(`take a backup of ${slug} as it is now \\(pre-restore\\), the way back`));
  t.match(changes, /replace its database and files with the backup's/);
  t.match(changes, new RegExp(`start ${slug} and wait until every service passes its checks`));
  t.match(await panel.locator('[data-testid=lost-since]').innerText(), new RegExp(`Whatever ${slug} changed after .* is lost`));
  t.match(await panel.locator('[data-testid=restore-replaces]').innerText(), new RegExp(`${slug} now: running`));
  const restoreButton = panel.locator(`button:has-text("Restore over ${slug}")`);
  t.ok(await restoreButton.isDisabled(), 'no restore over the team before its slug is typed');
  await page.fill('#restore-confirm', `${slug}x`);
  t.ok(await restoreButton.isDisabled(), 'nor with another name');

  await page.fill('#restore-into', 'Not A Slug');
  await page.click('[data-testid=restore-into-form] button:has-text("Preview")');
  await page.locator('[data-testid=into-error]').waitFor();
  t.match(await page.locator('[data-testid=into-error]').innerText(), /A team name/, 'a bad name is refused next to its field');

  await page.fill('#restore-into', copy);
  await page.click('[data-testid=restore-into-form] button:has-text("Preview")');
  const copyPanel = page.locator(`[data-testid=restore][data-into="${copy}"][data-new-team=true]`);
  await copyPanel.waitFor();
  t.match(await copyPanel.locator('[data-testid=restore-changes]').innerText(), new RegExp(`make team ${copy} .*a clone of ${slug}`));
  t.equal(await copyPanel.locator('[data-testid=lost-since]').count(), 0, 'nothing is lost making a new team');
  t.equal(await copyPanel.locator('#restore-confirm').count(), 0, 'and nothing to confirm');
  t.ok(await copyPanel.locator(`button:has-text("Restore into ${copy}")`).isEnabled());
  t.equal(await stack.tp.platform.repo.get(copy), null, 'a preview makes nothing');

  await page.click(`a:has-text("Restore over ${slug} instead")`);
  await panel.waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'backups-restore-preview.png'), fullPage: true });
});

t.test('restore over the team with its slug typed: restoring, then running again, with a pre-restore backup as the way back', async (t) => {
  // The button's rule holds on the server too: a post without the slug typed changes nothing.
  const post = (form: Record<string, string>) => page.request.post(`${stack.web.url}/tenants/${slug}/backups?/restore`, {
    headers: { origin: stack.web.url, 'x-sveltekit-action': 'true', accept: 'application/json' }, form
  });
  const forged = await (await post({ id: first, over: '1', confirm: 'not-it' })).json() as { type: string; status: number; data: string };
  t.match(forged, { type: 'failure', status: 400 });
  t.match(forged.data, /to confirm that its data is replaced/, 'refused by the console');
  const bare = await (await post({ id: first })).json() as { type: string; status: number; data: string };
  t.match(bare, { type: 'failure', status: 400 });
  t.match(bare.data, /CONFIRMATION_REQUIRED/, 'and by the API, when the form does not say it is over the team');
  t.equal((await backupsOf()).length, 1, 'no restore began (no pre-restore backup)');

  await page.fill('#restore-confirm', slug);
  await page.click(`[data-testid=restore] button:has-text("Restore over ${slug}")`);
  await page.locator('[data-testid=phase][data-phase=restoring]').waitFor({ timeout: 60_000 });
  t.equal((await page.locator('[data-testid=phase]').innerText()).trim(), 'restoring', 'the badge says restoring while it runs');
  t.match(await ended(t, 'restore', 'ok', 240_000),
    new RegExp(`checking the backup[\\s\\S]*pre-restore backup[\\s\\S]*restoring db-data from the backup[\\s\\S]*Restored ${slug} from backup ${first} in [\\d.]+ s: the team is running\\.`));
  await page.locator('[data-testid=phase][data-phase=running]').waitFor();
  t.equal(await page.locator('[data-testid=restore]').count(), 0, 'the panel closed');
  await page.locator('[data-testid=backup][data-reason=pre-restore][data-state=complete]').waitFor({ timeout: 10_000 });
  t.pass('the pre-restore backup is in the list');
  await stack.tp.platform.operations.settled();
  t.equal((await stack.tp.platform.repo.get(slug))?.phase, 'running');
  t.equal((await throughNginx(stack.tp, slug, 'GET', '/healthz')).status, 200, 'it answers through nginx');
  await page.screenshot({ path: path.join(SHOTS, 'backups.png'), fullPage: true });
});

t.test('restore into a new team: the copy is made and followed on its own events, then linked', async (t) => {
  await page.click(`[data-testid=backup][data-id="${first}"] [data-testid=restore-link]`);
  await page.fill('#restore-into', copy);
  await page.click('[data-testid=restore-into-form] button:has-text("Preview")');
  await page.locator(`[data-testid=restore][data-into="${copy}"][data-new-team=true]`).waitFor();
  await page.click(`[data-testid=restore] button:has-text("Restore into ${copy}")`);
  t.match(await ended(t, 'copy', 'ok', 240_000),
    new RegExp(`restoring db-data from the backup[\\s\\S]*Made ${copy} from backup ${first} in [\\d.]+ s: it is running\\.\\s*Open ${copy}`));
  t.equal((await page.locator('[data-testid=phase]').innerText()).trim(), 'running', `${slug} itself is left as it is`);
  await stack.tp.platform.operations.settled();
  t.equal((await stack.tp.platform.repo.get(copy))?.phase, 'running', 'the copy runs');
  t.equal((await throughNginx(stack.tp, copy, 'GET', '/healthz')).status, 200, 'and answers through nginx');
  await page.click(`a:has-text("Open ${copy}")`);
  await page.waitForURL(`${stack.web.url}/tenants/${copy}`);
  await page.goBack();
  await page.waitForURL(`${stack.web.url}/tenants/${slug}/backups`);
  await page.locator('html[data-hydrated="true"]').waitFor();
});

t.test('Download: the console streams the tar with the operator session; 200, application/x-tar, its manifest first', async (t) => {
  const link = page.locator(`[data-testid=backup][data-id="${first}"] [data-testid=download]`);
  const href = await link.getAttribute('href');
  t.equal(href, `/tenants/${slug}/backups/${first}/download`, "the console's own route: no API address, no token in the page");
  const res = await page.request.get(`${stack.web.url}${href}`);
  t.equal(res.status(), 200);
  t.equal(res.headers()['content-type'], 'application/x-tar');
  t.equal(res.headers()['content-disposition'], `attachment; filename="${slug}-${first}.tar"`);
  const tar = await res.body();
  t.equal(tar.subarray(0, 100).toString('utf8').replace(/\0+$/, ''), `${slug}-${first}/manifest.json`, 'a tar whose first entry is its manifest');
  t.match(tar.toString('latin1'), new RegExp(`${slug}-${first}/db-data\\.tar`), 'and its volumes');

  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  t.equal(download.suggestedFilename(), `${slug}-${first}.tar`, 'the browser saves it under its name');
  const saved = await readFile((await download.path())!);
  t.equal(saved.length, tar.length, 'the whole tar');

  t.equal((await fetch(`${stack.web.url}${href}`, { redirect: 'manual' })).status, 401, 'no session, no tar');
  t.equal((await apiCall('GET', `/tenants/${slug}/backups/${first}/download`)).headers.get('content-type'), 'application/x-tar', 'as the API gives it');
});

t.test('Delete… asks first, then removes the backup from the list and the target', async (t) => {
  const row = page.locator(`[data-testid=backup][data-id="${first}"]`);
  await row.locator('button:has-text("Delete…")').click();
  const confirm = page.locator('[data-testid=delete-confirm]');
  t.match(await confirm.innerText(), new RegExp(`Delete backup ${first}\\?[\\s\\S]*cannot be undone`));
  await confirm.locator('button:has-text("Cancel")').click();
  t.equal(await confirm.count(), 0, 'Cancel keeps it');
  await row.locator('button:has-text("Delete…")').click();
  await confirm.locator('button:has-text("Delete backup")').click();
  await row.waitFor({ state: 'detached', timeout: 20_000 });
  t.notOk((await backupsOf()).some((b) => b.id === first), 'the API no longer lists it');
  t.equal(await rows().count(), 1, 'the pre-restore backup stays');
});

t.test('the Overview tab: its timeline tells the backups, the restore and the delete in words', async (t) => {
  await page.click('nav.tabs a:has-text("Overview")');
  await page.waitForURL(`${stack.web.url}/tenants/${slug}`);
  await page.locator('html[data-hydrated="true"]').waitFor();
  const timeline = await page.locator('[data-testid=timeline]').innerText();
  t.match(timeline, new RegExp(`backup ${first} complete \\(on demand\\), froze the team (\\d+ ms|[\\d.]+ s)`));
  t.match(timeline, /complete \(before a restore \(the way back\)\)/, 'the pre-restore backup');
  t.match(timeline, /phase running → restoring/);
  t.match(timeline, /phase restoring → running/);
  t.match(timeline, new RegExp(`restored from backup ${first} of ${slug}`));
  t.match(timeline, new RegExp(`backup ${first} deleted`));
  t.match(timeline, /restore: checking the backup, every file against its checksum/);
});

/** A backup id of this time, as the API makes them (20261203T201500Z-a1b2c3). */
const idAt = (at: Date) => `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;

t.test('the dashboard: a failed backup (a failed record inserted into the platform database) and an overdue team (its backups dated back 3 days there), linked to its Backups tab; cleared live by a backup', async (t) => {
  const backups = stack.tp.platform.db.db.collection<BackupRecord>('backups');
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
  await backups.updateMany({ tenant: slug }, { $set: { createdAt: threeDaysAgo } });
  const at = new Date();
  const failedId = idAt(at);
  const message = 'the backup target refused the upload: no space left on device (made by the test)';
  const template = (await stack.tp.platform.repo.get(slug))!;
  await backups.insertOne({
    _id: `${slug}/${failedId}`, id: failedId, tenant: slug, state: 'failed', reason: 'scheduled', createdAt: at, endedAt: at,
    target: `dir:${stack.tp.config.backups.dir}`, appVersion: template.appVersion, plan: template.plan, template: template.template, owner: 'test',
    error: { code: 'BACKUP_FAILED', message }
  });

  await visit(page, `${stack.web.url}/`);
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  const problem = page.locator(`[data-testid=backup-problem][data-slug="${slug}"][data-failed=true][data-overdue=true]`);
  await problem.waitFor();
  t.match(await problem.locator('[data-testid=backup-failure]').innerText(), new RegExp(`last backup failed\\s+\\d+ s ago: BACKUP_FAILED — ${message.replace(/[()]/g, '\\$&')}`));
  t.match(await problem.locator('[data-testid=backup-overdue]').innerText(), /overdue\s+last complete backup 3 d ago; schedule every 24 h/);
  t.match(await page.locator('[data-testid=backups-counts]').innerText(), /1 failed\s*1 overdue/);
  t.match(await page.locator('[data-testid=backups-card]').innerText(), /1 of 2 teams backed up within schedule/, 'the copy, new, is not overdue');
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-backups.png') });

  // Its link opens the Backups tab, where the failed backup shows why.
  await problem.locator('a').click();
  await page.waitForURL(`${stack.web.url}/tenants/${slug}/backups`);
  const failedRow = page.locator(`[data-testid=backup][data-id="${failedId}"][data-state=failed]`);
  await failedRow.waitFor();
  t.match(await failedRow.locator('[data-testid=backup-failure]').innerText(), new RegExp(`BACKUP_FAILED: ${message.replace(/[()]/g, '\\$&')}`));

  // A backup taken meanwhile (through the API) clears both on the dashboard, without a reload.
  await visit(page, `${stack.web.url}/`);
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  await problem.waitFor();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 9));
  const res = await apiCall('POST', `/tenants/${slug}/backups`);
  t.equal(res.status, 202);
  await page.locator('[data-testid=backups-ok]').waitFor({ timeout: 120_000 });
  t.equal((await page.locator('[data-testid=backups-ok]').innerText()).trim(), 'All 2 teams backed up within schedule.');
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 9, 'live: the same page');
  await stack.tp.platform.operations.settled();
});
