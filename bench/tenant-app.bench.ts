// The tenant app as a team gets it: a whole stack from templates/tenant.yaml
// (app container with the starter plan's limits), reached through its port
// published on 127.0.0.1. Prints idle RSS of the app container, then p50/p95
// of listing a 1,000-item board and of 1 MB uploads, 20 concurrent clients
// each (autocannon), with the CPU the app and db containers spent per request
// (each has 0.5 CPU on the starter plan). Listing is measured on full 200
// responses; revalidation with If-None-Match (304) is printed apart. Asserts
// nothing. Targets (issue 4): list p50 ≤ 30 ms, idle app RSS ≤ 80 MB.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig, ROOT_DIR } from '../orchestrator/src/config/config.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';
import { stackImages } from '../orchestrator/src/stacks/images.js';
import { renderStack } from '../orchestrator/src/stacks/render.js';
import { generateSecrets } from '../orchestrator/src/stacks/secrets.js';
import { downStack, upStack } from '../orchestrator/src/stacks/stack-runner.js';
import { loadTemplate } from '../orchestrator/src/stacks/template-loader.js';

const ITEMS = 1000;
const CONNECTIONS = 20;
const SECONDS = 10;
const MB = 1024 * 1024;
const config = loadConfig();
const runtime = new DockerRuntime(silentLogger, config.dockerSocket);
const slug = `bench-app-${randomBytes(3).toString('hex')}`;
const ownerToken = randomBytes(32).toString('base64url');
const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
// Its own platform label: an orchestrator running for "default" would sweep it as an orphan.
const PLATFORM = 'tenant-app-bench';
const spec = renderStack(loaded, { slug, platform: PLATFORM, appVersion: config.defaultAppVersion, images: stackImages(config, config.defaultAppVersion), secrets: generateSecrets(loaded) });
const appService = spec.services.find((s) => s.name === spec.route.service)!;
// The owner, as onboarding will pass it (see tenant-app/README.md).
appService.container.env = { ...appService.container.env, OWNER_EMAIL: 'owner@example.com', OWNER_SETUP_TOKEN: ownerToken, ATTACHMENT_MAX_BYTES: String(8 * MB), LOG_LEVEL: 'warn' };

const run = promisify(execFile);
/** VmRSS of the container's main process, read from the host's /proc. */
async function containerRss(name: string): Promise<number> {
  const { stdout } = await run('docker', ['inspect', '-f', '{{.State.Pid}}', name]);
  const status = readFileSync(`/proc/${stdout.trim()}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
}

/**
 * CPU time a container has used, and how long its CFS quota held it back, from
 * its cgroup (v1 or v2) on the host; null where neither can be read. Shows
 * which side of a load (app or db, each 0.5 CPU on the starter plan) is the
 * bottleneck.
 */
async function containerCpu(name: string): Promise<{ usedMs: number; throttledMs: number } | null> {
  const { stdout } = await run('docker', ['inspect', '-f', '{{.Id}}', name]);
  const id = stdout.trim();
  const read = (file: string): string | null => { try { return readFileSync(file, 'utf8'); } catch { return null; } };
  const field = (text: string, key: string): number => Number(text.match(new RegExp(`^${key} (\\d+)`, 'm'))?.[1] ?? 0);
  const v1 = read(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`);
  if (v1 !== null) {
    const stat = read(`/sys/fs/cgroup/cpu/docker/${id}/cpu.stat`) ?? '';
    return { usedMs: Number(v1) / 1e6, throttledMs: field(stat, 'throttled_time') / 1e6 };
  }
  for (const dir of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    const stat = read(`${dir}/cpu.stat`);
    if (stat !== null) return { usedMs: field(stat, 'usage_usec') / 1e3, throttledMs: field(stat, 'throttled_usec') / 1e3 };
  }
  return null;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The containers whose CPU each load reports (app and db). */
const measured: { label: string; name: string }[] = [];

async function load(title: string, options: autocannon.Options & { connections?: number }): Promise<void> {
  const cpuBefore = await Promise.all(measured.map((m) => containerCpu(m.name).catch(() => null)));
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const instance = autocannon({ duration: SECONDS, ...options, connections: options.connections ?? CONNECTIONS });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  console.log(`${title}: p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  ` +
    `(${latencies.length} requests in ${SECONDS} s, ${result.requests.average.toFixed(0)} req/s, statuses ${JSON.stringify(Object.fromEntries(statuses))}, errors ${result.errors})`);
  const cpuAfter = await Promise.all(measured.map((m) => containerCpu(m.name).catch(() => null)));
  const cpu = measured.flatMap((m, i) => {
    const [a, b] = [cpuBefore[i], cpuAfter[i]];
    if (!a || !b || latencies.length === 0) return [];
    const used = b.usedMs - a.usedMs;
    return [`${m.label} ${(used / latencies.length).toFixed(2)} ms/req (${((used / (SECONDS * 1000)) * 100).toFixed(0)}% of a CPU, throttled ${((b.throttledMs - a.throttledMs) / 1000).toFixed(1)} s)`];
  });
  if (cpu.length) console.log(`  cpu: ${cpu.join('  ')}`);
}

try {
  const { publishedPort } = await upStack(runtime, spec, { probeIntervalMs: 100 });
  const base = `http://127.0.0.1:${publishedPort}`;
  const appName = appService.container.name;
  const dbService = spec.services.find((s) => s.name === 'db');
  measured.push({ label: 'app', name: appName });
  if (dbService) measured.push({ label: 'db', name: dbService.container.name });

  // Idle: up, healthy, nothing asked of it for a few seconds.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const idle = await containerRss(appName);
  const stats = await runtime.stats(appName);
  console.log(`idle app container: RSS ${(idle / MB).toFixed(1)} MB (cgroup usage ${((stats?.memoryBytes ?? 0) / MB).toFixed(1)} MB of ${((stats?.memoryLimitBytes ?? 0) / MB).toFixed(0)} MB limit)  target ≤ 80 MB`);

  // The owner sets a password through the one-time link: that is the session.
  // The form post comes from the team's public address (ORIGIN, as nginx would
  // serve it): SvelteKit's CSRF check compares the Origin header with it.
  const headers = { 'x-forwarded-proto': 'http', origin: appService.container.env!.ORIGIN ?? base };
  const welcome = await fetch(`${base}/welcome/${ownerToken}`, {
    method: 'POST', redirect: 'manual',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ name: 'Owner', password: 'bench password', confirm: 'bench password' }).toString()
  });
  const cookie = welcome.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf } = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrf: string };
  const auth = { cookie, 'x-csrf-token': csrf };

  const started = performance.now();
  for (let i = 0; i < ITEMS; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => fetch(`${base}/api/items`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `Item ${i + j}`, description: 'x'.repeat(120), status: ['todo', 'doing', 'done'][(i + j) % 3] })
    })));
  }
  console.log(`seeded ${ITEMS} items through the API in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const listed = (await (await fetch(`${base}/api/items`, { headers: auth })).json()) as { items: unknown[] };
  const bytes = JSON.stringify(listed).length;
  await load(`GET /api/items (${listed.items.length} items, ${(bytes / 1024).toFixed(0)} KB), 1 client`, { url: `${base}/api/items`, headers: auth, connections: 1 });
  await load(`GET /api/items (${listed.items.length} items), ${CONNECTIONS} clients`, { url: `${base}/api/items`, headers: auth });
  // Apart from the target (full 200 bodies above): a client that already has
  // this version revalidates with its ETag and gets 304 without the body.
  const etag = (await fetch(`${base}/api/items`, { headers: auth })).headers.get('etag');
  if (etag) await load(`GET /api/items with If-None-Match (304, not the target), ${CONNECTIONS} clients`, { url: `${base}/api/items`, headers: { ...auth, 'if-none-match': etag } });

  const item = ((await (await fetch(`${base}/api/items`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title":"uploads"}' })).json()) as { item: { id: string } }).item;
  await load(`POST 1 MB attachment, ${CONNECTIONS} clients`, {
    url: `${base}/api/items/${item.id}/attachments?name=one-mb.bin`,
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: randomBytes(MB)
  });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  console.log(`app container after the load: RSS ${((await containerRss(appName)) / MB).toFixed(1)} MB`);
} finally {
  await downStack(runtime, slug, { deleteData: true, platform: PLATFORM });
}
