// Debian's Chromium, headless, through playwright-core (never a downloaded
// browser); every launch gets its own fresh profile.
import { appendFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { testLogFile } from '../../../orchestrator/test/helpers/test-log.js';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Every context the browser opens writes what its pages did to the test's log
 * folder (printed when the test fails): a step that never showed is explained
 * by the requests, statuses and page errors before it.
 */
export async function launchBrowser(options: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    ...(options.env ? { env: options.env } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...(options.args ?? [])]
  });
  const file = testLogFile('browser');
  const write = (line: string) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  const open = browser.newContext.bind(browser);
  let contexts = 0;
  browser.newContext = async (...args: Parameters<Browser['newContext']>) => {
    const context = await open(...args);
    record(context, `ctx${++contexts}`, write);
    return context;
  };
  return browser;
}

// Tokens ride in some paths (the owner's one-time link): never in a log. The
// form action (?/verify) and SvelteKit's short parameters stay readable.
const redact = (url: string) => url.replace(/[A-Za-z0-9_-]{20,}/g, '…');
const WATCHED = new Set(['document', 'fetch', 'xhr', 'eventsource', 'websocket']);

function record(context: BrowserContext, name: string, write: (line: string) => void): void {
  context.on('page', (page) => {
    page.on('framenavigated', (frame) => frame === page.mainFrame() && write(`${name} navigated ${redact(frame.url())}`));
    page.on('pageerror', (err) => write(`${name} page error: ${err.message}`));
  });
  context.on('console', (msg) => ['error', 'warning'].includes(msg.type()) && write(`${name} console ${msg.type()}: ${msg.text().slice(0, 500)}`));
  context.on('requestfailed', (req) => write(`${name} failed ${req.method()} ${redact(req.url())}: ${req.failure()?.errorText ?? '?'}`));
  context.on('response', (res) => {
    if (WATCHED.has(res.request().resourceType())) write(`${name} ${res.status()} ${res.request().method()} ${redact(res.url())}`);
  });
}

/** Navigation, then hydration: typing before it would be lost to the page's own values. */
export async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('html[data-hydrated="true"]').waitFor();
}
