// The console's dashboard with 1,000 tenants in Debian's Chromium: time to
// render it, to apply a burst of 100 live events (and 1,000: one stats round),
// to filter it, and how many rows are in the DOM (the list is windowed).
// The DevOps API is a stand-in here (1,000 real stacks do not fit on a test
// host): it answers /auth/me, /tenants and /tenants/:slug, and pushes events on
// /api/v1/events. The console is the real build behind `node console/server.js`.
// Prints a table; asserts nothing.
import http from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { launchBrowser, visit } from '../console/test/helpers/browser.js';
import { buildConsole, ROOT, startConsole } from '../console/test/helpers/console.js';
import { freePort } from '../orchestrator/test/helpers/nginx.js';

const N = 1000;
const ROUNDS = 5;
const PHASES = ['running', 'running', 'running', 'degraded', 'stopped', 'provisioning', 'failed'];
const slugOf = (i: number) => `team-${String(i).padStart(4, '0')}`;
const tenants = Array.from({ length: N }, (_, i) => ({
  slug: slugOf(i), displayName: `Team ${i}`, plan: 'starter', template: 'tenant', templateVersion: 1,
  appVersion: i % 10 === 0 ? '0.2.0' : '0.1.0', phase: PHASES[i % PHASES.length], desired: 'running',
  url: `http://${slugOf(i)}.berth.localhost/`, port: 20000 + i,
  health: { healthy: i % 7 !== 3, failures: i % 7 === 3 ? 2 : 0, checkedAt: new Date().toISOString(), restarts: 0 },
  services: { app: 'running', db: 'running', storage: 'running' },
  createdAt: new Date(Date.now() - i * 60_000).toISOString(), updatedAt: new Date().toISOString()
}));

// ---- the stand-in API ----
const sockets = new Set<WebSocket>();
const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (body: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.headers.authorization !== 'Bearer bsess_bench') return json({ error: { code: 'UNAUTHENTICATED', message: 'no' } }, 401);
  if (url.pathname === '/api/v1/auth/me') return json({ kind: 'operator', scope: 'admin', operator: { id: '0123456789abcdef', email: 'bench@example.com', name: 'Bench' } });
  if (url.pathname === '/api/v1/tenants') return json({ tenants });
  const one = /^\/api\/v1\/tenants\/([a-z0-9-]+)$/.exec(url.pathname);
  if (one) return json(tenants.find((t) => t.slug === one[1]) ?? { error: { code: 'TENANT_NOT_FOUND', message: 'no' } });
  json({ error: { code: 'NOT_FOUND', message: url.pathname } }, 404);
});
const wss = new WebSocketServer({ noServer: true });
api.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
  sockets.add(ws);
  ws.on('close', () => sockets.delete(ws));
}));
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

if (!existsSync(path.join(ROOT, 'console/build/handler.js'))) await buildConsole();
const web = await startConsole({ BERTH_API_URL: apiUrl, PORT: await freePort() });
const browser = await launchBrowser();
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
await context.addCookies([{ name: 'berth_session', value: 'bsess_bench', url: web.url, httpOnly: true, sameSite: 'Strict' }]);
// Counts the page's WebSocket messages and notes when the last of a burst was handled and painted.
await context.addInitScript(() => {
  const w = window as unknown as { __bench: { target: number; count: number; first: number; handled: number; painted: number } };
  w.__bench = { target: 0, count: 0, first: 0, handled: 0, painted: 0 };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    set onmessage(handler: ((ev: MessageEvent) => void) | null) {
      super.onmessage = (ev: MessageEvent) => {
        const b = w.__bench;
        if (b.count === 0) b.first = performance.now();
        handler?.(ev);
        if (++b.count === b.target) {
          // Svelte flushes DOM updates in a microtask; the frame after that is on screen.
          queueMicrotask(() => {
            b.handled = performance.now();
            requestAnimationFrame(() => setTimeout(() => (b.painted = performance.now())));
          });
        }
      };
    }
  } as typeof WebSocket;
});
const page = await context.newPage();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = { render: [], events100: [], events1000: [], filter: [] };
let domRows = 0;
let seq = Date.now() * 1000;

function burst(count: number, make: (i: number) => Record<string, unknown>): void {
  for (const ws of sockets) for (let i = 0; i < count; i++) ws.send(JSON.stringify({ seq: ++seq, at: new Date().toISOString(), ...make(i) }));
}

async function timeBurst(count: number, make: (i: number) => Record<string, unknown>): Promise<number> {
  await page.evaluate((n) => Object.assign((window as unknown as { __bench: object }).__bench, { target: n, count: 0, first: 0, handled: 0, painted: 0 }), count);
  burst(count, make);
  await page.waitForFunction(() => (window as unknown as { __bench: { painted: number } }).__bench.painted > 0, null, { polling: 50, timeout: 30_000 });
  return page.evaluate(() => {
    const b = (window as unknown as { __bench: { first: number; painted: number } }).__bench;
    return b.painted - b.first;
  });
}

for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  await visit(page, `${web.url}/`);
  await page.locator('[data-slug="team-0000"]').waitFor();
  await page.locator('[data-testid=live-status][data-status=open]').waitFor();
  results.render!.push(performance.now() - started);
  domRows = await page.locator('.trow').count();

  // 100 events as an operator sees them: phases, operation steps, health, stats, on visible and hidden rows.
  const types = ['tenant.phase', 'operation.step', 'health.check_failed', 'tenant.stats'];
  results.events100!.push(await timeBurst(100, (i) => {
    const tenant = slugOf((i * 37) % N);
    const type = types[i % types.length];
    const data = type === 'tenant.phase' ? { from: 'running', to: i % 8 === 0 ? 'degraded' : 'running' }
      : type === 'operation.step' ? { kind: 'restart', step: `app:${i}` }
      : type === 'health.check_failed' ? { failing: 'app', detail: 'HTTP 503', failures: 1 }
      : { cpuPercent: i % 100, memoryBytes: 1e8 + i, memoryLimitBytes: 1 << 30, services: {} };
    return { type, tenant, operation: type === 'operation.step' ? `op-${i}` : undefined, data };
  }));
  // One stats round: an event for every tenant.
  results.events1000!.push(await timeBurst(N, (i) => ({ type: 'tenant.stats', tenant: slugOf(i), data: { cpuPercent: (i * 7) % 100, memoryBytes: 5e7 + i * 1e5, memoryLimitBytes: 1 << 30, services: {} } })));

  const f0 = performance.now();
  await page.fill('#q', 'team-09');
  await page.waitForFunction(() => document.querySelector('[data-testid=count]')?.textContent?.startsWith('100 of'), null, { polling: 'raf' });
  results.filter!.push(performance.now() - f0);
}

await browser.close();
await web.stop();
for (const ws of sockets) ws.terminate();
await new Promise((resolve) => api.close(resolve));

console.log(`console dashboard, ${N} tenants, Chromium headless, median of ${ROUNDS} (min–max)`);
const row = (label: string, xs: number[]) => console.log(`  ${label.padEnd(52)} ${median(xs).toFixed(0).padStart(6)} ms   (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`);
row('load / → rows shown, hydrated, events socket open', results.render!);
row('100 live events: first received → handled and painted', results.events100!);
row('1,000 tenant.stats events (one stats round)', results.events1000!);
row('search "team-09" → 100 of 1,000 shown', results.filter!);
console.log(`  rows in the DOM: ${domRows} of ${N} (windowed)`);
