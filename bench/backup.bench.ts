// Backup and restore of a full team (issue 15 item 6): a team with 1,000
// board items and 500 MB of attachments, made and filled through the API and
// nginx as its members would, is backed up through the API while a member
// keeps reading the board, then restored over itself through the API
// (confirm=<slug>) and checked: the board has every item and attachments
// download byte-identical. Reports MB/s, the pause the backup record
// measured and the member's latency before, during and in the freeze, the
// restore's time and the member's downtime, and where each operation's time
// went (its steps). Targets: backup ≤ 1.5 × the yardstick.
// Yardstick in the same run, after the backup: a plain GNU tar of the same
// two volumes (read on the host under their Docker mountpoints) into a file
// on the filesystem of the backup directory; and, for reference, the same tar
// piped to the bench and thrown away (reading only: a tar whose archive is
// /dev/null itself reads no file contents, so `> /dev/null` is no yardstick).
// Production settings: a real orchestrator process (server.ts, as in
// bench/healing.bench.ts) with its loops on at scripts/defaults.env's
// intervals, on a platform of its own (startTestPlatform: platform database
// container, private nginx, own platform id and home, backups under that
// home unless BENCH_BACKUP_DIR names another place). Sizes are parameters, so
// a smoke run can be small:
//   BENCH_ITEMS (1000), BENCH_ATTACHMENT_MB (500), BENCH_FILE_MB (5),
//   BENCH_PLAN (starter), BENCH_READ_MS (50), BENCH_BASELINE_S (10),
//   BENCH_FILL_RATE (40 requests/s, under the starter plan's 50r/s),
//   BENCH_BACKUP_DIR (unset: <platform home>/backups).
// Prints what it ran with and every retry and failure; asserts nothing;
// removes everything it made (the team through the API), also on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackupList, BackupView, CreateBackupReply, RestoreReply } from '../orchestrator/src/backups/backups.schema.js';
import { loadConfig, ROOT_DIR } from '../orchestrator/src/config/config.js';
import type { OwnerLinkReply, TenantAccepted, TenantEventsReply } from '../orchestrator/src/contract/index.js';
import { names } from '../orchestrator/src/names.js';
import { loadTemplate } from '../orchestrator/src/stacks/template-loader.js';
import { docker, testSlug } from '../orchestrator/test/helpers/docker.js';
import { freePort } from '../orchestrator/test/helpers/nginx.js';
import { kill, startOrchestrator } from '../orchestrator/test/helpers/orchestrator-process.js';
import { platformEnv, startTestPlatform } from '../orchestrator/test/helpers/platform.js';
import { fillTeam, followOperation, sleep, startReader, stepAt, stepTimes, Tally, type ApiEvent, type Sample } from './backup-team.js';
import { DEFAULT_LOAD, LoadStats, percentile, prepareTeam } from './scenarios/team-load.js';

const MB = 2 ** 20;
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ITEMS = num('BENCH_ITEMS', 1000);
const ATTACHMENT_MB = num('BENCH_ATTACHMENT_MB', 500);
const FILE_MB = num('BENCH_FILE_MB', 5);
const PLAN = process.env.BENCH_PLAN ?? 'starter';
const READ_MS = num('BENCH_READ_MS', 50);
const BASELINE_S = num('BENCH_BASELINE_S', 10);
const FILL_RATE = num('BENCH_FILL_RATE', 40);
const TARGET_RATIO = 1.5;
const FILES = Array.from({ length: Math.ceil(ATTACHMENT_MB / FILE_MB) }, (_, i) => Math.round(Math.min(FILE_MB, ATTACHMENT_MB - i * FILE_MB) * MB));

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const rate = (bytes: number, ms: number) => `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const tp = await startTestPlatform('backupbench');
const apiPort = await freePort();
const base = `http://127.0.0.1:${apiPort}`;
const children: ChildProcess[] = [];
const ownBackupDir = process.env.BENCH_BACKUP_DIR ? path.join(process.env.BENCH_BACKUP_DIR, `berth-bench-${tp.config.platformId}`) : undefined;
const slug = testSlug('bb');
const retries = new Tally();
let made = false;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function api<T>(method: string, url: string, expect: number, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${url}`, {
    method, headers: { authorization: `Bearer ${tp.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body)
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${url} answered ${res.status} (expected ${expect}): ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** An operation the API accepted, followed to its end: its events; throws if it failed. */
async function operation(what: string, accepted: { operation: { id: string } }): Promise<ApiEvent[]> {
  const events = await followOperation(base, tp.token, accepted.operation.id, retries);
  const end = events[events.length - 1]!;
  if (end.type !== 'operation.succeeded') throw new Error(`${what} failed: ${JSON.stringify(end.data)}`);
  return events;
}

async function cleanup(): Promise<void> {
  if (made) {
    await api<TenantAccepted>('DELETE', `/tenants/${slug}?deleteData=true&confirm=${slug}`, 202).then((a) => operation('delete', a))
      .catch((err: Error) => console.error(`the team was not deleted through the API (${err.message}); the platform's close removes it`));
    made = false;
  }
  for (const child of children) await kill(child, 'SIGTERM');
  if (ownBackupDir) await rm(ownBackupDir, { recursive: true, force: true });
  await tp.close();
}

/** Runs a command (argv, no shell); its exit code and the first line of its stderr. */
function run(cmd: string, args: string[], stdout: 'ignore' | ((chunk: Buffer) => void) = 'ignore'): Promise<{ code: number; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    if (stdout !== 'ignore') child.stdout!.on('data', stdout);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, err: err.split('\n')[0]!.slice(0, 200) }));
  });
}

/** Ends of the member's answered requests, in order. */
const answeredEnds = (samples: Sample[]) => samples.filter((x) => x.status === 200 || x.status === 304).map((x) => x.at + x.ms).sort((a, b) => a - b);

/** The longest time between two answered requests' ends that overlaps [from, to), clipped to it when `clip`. */
function longestGap(samples: Sample[], from: number, to: number, clip: boolean): number {
  const ends = answeredEnds(samples);
  let gap = 0;
  for (let i = 1; i < ends.length; i++) {
    const [a, b] = [ends[i - 1]!, ends[i]!];
    if (b > from && a < to) gap = Math.max(gap, clip ? Math.min(b, to) - Math.max(a, from) : b - a);
  }
  return gap;
}

/** The member's requests sent in [from, to): answered (200/304) latencies, failures by reason, and the longest stretch in it without a board. */
function windowOf(samples: Sample[], from: number, to: number) {
  const xs = samples.filter((x) => x.at >= from && x.at < to);
  const ok = xs.filter((x) => x.status === 200 || x.status === 304);
  const failed = new Tally();
  for (const x of xs) if (x.status !== 200 && x.status !== 304) failed.add(x.error ?? `HTTP ${x.status}`);
  return { n: xs.length, ms: ok.map((x) => x.ms), failed, wait: longestGap(samples, from, to, true) };
}

try {
  const env = platformEnv(tp.config, { BERTH_API_PORT: String(apiPort), ...(ownBackupDir ? { BERTH_BACKUP_DIR: ownBackupDir } : {}) });
  if (ownBackupDir) await mkdir(ownBackupDir, { recursive: true, mode: 0o700 });
  await startOrchestrator(env, apiPort, children);
  const c = loadConfig(env);
  const plan = (await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'))).template['x-berth'].plans[PLAN];
  console.log('backup bench: ran with (a real orchestrator process, server.ts, loops on, scripts/defaults.env as it read them):');
  console.log(`  health every ${c.health.intervalMs} ms (degraded after ${c.health.failuresBeforeDegraded}), reconcile ${c.reconcileIntervalMs} ms, stats ${c.stats.intervalMs} ms, sleep policy ${c.sleep.intervalMs} ms, backup scheduler ${c.backups.intervalMs} ms; max parallel ops ${c.maxParallelOps}; runtime call timeout ${c.deadlines.runtimeCallMs} ms, operation timeout ${c.deadlines.operationMs} ms; start probes every ${c.start.probeIntervalMs} ms; app ${c.defaultAppVersion}`);
  console.log(`  team: plan ${PLAN} ${JSON.stringify(plan)}`);
  console.log(`  data: ${ITEMS} board items, ${FILES.length} attachments of ${FILE_MB} MB (random bytes, incompressible) = ${mb(FILES.reduce((a, b) => a + b, 0))}; filled at ≤ ${FILL_RATE} requests/s`);
  console.log(`  backup target: ${c.backups.s3 ? 's3' : `dir:${c.backups.dir}`} (sealed first in ${path.join(c.backups.dir, '.work')}); MB = 2^20 bytes`);
  console.log(`  reader: one member, GET /api/items through nginx (keep-alive), ${READ_MS} ms after each answer; baseline ${BASELINE_S} s`);
  console.log(`  host: ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / MB)} MB, load average ${load()} at start; page cache not dropped, \`sync\` before each timed phase`);

  // ---- the team, filled (not timed as part of the measurement) ----
  let t0 = performance.now();
  await operation('create', await api<TenantAccepted>('POST', '/tenants', 202, { slug, plan: PLAN, ownerEmail: 'owner@backup-bench.example' }).then((a) => ((made = true), a)));
  const link = await api<OwnerLinkReply>('POST', `/tenants/${slug}/owner-link`, 202);
  await operation('owner-link', link);
  const team = await prepareTeam({ port: c.nginx.httpPort, baseDomain: c.baseDomain }, { slug, setupUrl: link.url }, { ...DEFAULT_LOAD, members: 1 }, new LoadStats());
  const { uploads } = await fillTeam(team, { items: ITEMS, files: FILES, rate: FILL_RATE, retries });
  console.log(`\nteam ${slug} made and filled in ${s(performance.now() - t0)} (not measured)`);

  const reader = startReader(team, READ_MS);
  const windows: Array<[string, number, number]> = [];
  const baselineAt = Date.now();
  await sleep(BASELINE_S * 1000);
  windows.push(['before (baseline)', baselineAt, Date.now()]);

  // ---- the backup, through the API ----
  await run('sync', []);
  const backupAt = Date.now();
  t0 = performance.now();
  const taken = await api<CreateBackupReply>('POST', `/tenants/${slug}/backups`, 202);
  const backupEvents = await operation('backup', taken);
  const backupWall = performance.now() - t0;
  const backupEnd = Date.now();
  const record = await api<BackupView>('GET', `/tenants/${slug}/backups/${taken.backup.id}`, 200);
  if (record.state !== 'complete' || record.dataBytes === undefined || record.durationMs === undefined || record.pauseMs === undefined || !record.volumes) throw new Error(`the backup record is not complete: ${JSON.stringify(record)}`);
  windows.push(['during the backup', backupAt, backupEnd]);
  const frozeAt = stepAt(backupEvents, 'freezing');
  const thawedBy = stepAt(backupEvents, 'uploading');
  if (frozeAt && thawedBy) windows.push(['  in its freeze', frozeAt, thawedBy]);

  // ---- the yardstick: a plain tar of the same volumes ----
  const mounts = await Promise.all(record.volumes.map((v) => docker('volume', 'inspect', '-f', '{{.Mountpoint}}', names.volume(slug, v.volume))));
  const tarFile = path.join(path.dirname(c.backups.dir), `yardstick-${slug}.tar`);
  const backupDev = (await stat(c.backups.dir)).dev;
  const sameFs = (await stat(path.dirname(c.backups.dir))).dev === backupDev;
  const volumesFs = (await Promise.all(mounts.map((m) => stat(m)))).every((x) => x.dev === backupDev);
  const tarArgs = mounts.flatMap((m) => ['-C', m, '.']);
  const tarWarnings = new Tally();
  const timedTar = async (what: string, args: string[], out?: (chunk: Buffer) => void) => {
    await run('sync', []);
    const at = Date.now();
    const p0 = performance.now();
    const r = await run('tar', args, out);
    const ms = performance.now() - p0;
    windows.push([`during ${what}`, at, Date.now()]);
    // GNU tar: 1 is "some files changed while read" (the team runs), 2 is fatal.
    if (r.code === 1) tarWarnings.add(`${what}: ${r.err}`);
    else if (r.code !== 0) throw new Error(`${what}: tar exited ${r.code}: ${r.err}`);
    return ms;
  };
  let tarMs: number;
  let tarBytes: number;
  try {
    tarMs = await timedTar('tar → file', ['-cf', tarFile, ...tarArgs]);
    tarBytes = (await stat(tarFile)).size;
  } finally {
    await rm(tarFile, { force: true });
  }
  let pipedBytes = 0;
  const pipedMs = await timedTar('tar → pipe', ['-cf', '-', ...tarArgs], (chunk) => (pipedBytes += chunk.length));

  // ---- the restore, through the API, over the team ----
  await run('sync', []);
  const restoreAt = Date.now();
  t0 = performance.now();
  const restore = await api<RestoreReply>('POST', `/tenants/${slug}/backups/${taken.backup.id}/restore`, 202, { confirm: slug });
  const restoreEvents = await operation('restore', restore);
  const restoreWall = performance.now() - t0;
  const restoreEnd = Date.now();
  // The member's next board after the restore ends: downtime as the member saw it.
  const deadline = Date.now() + 120_000;
  while (!reader.samples.some((x) => x.at >= restoreEnd && x.status === 200) && Date.now() < deadline) await sleep(100);
  windows.push(['during the restore', restoreAt, restoreEnd]);
  await sleep(2000);
  windows.push(['after the restore', restoreEnd, Date.now()]);
  await reader.stop();

  // ---- the content check, through nginx ----
  const member = team.members[0]!;
  const board = await team.http.request('GET', '/api/items', { cookie: member.cookie, accept: 'application/json' });
  const count = board.status === 200 ? (JSON.parse(board.body.toString()) as { items: unknown[] }).items.length : -1;
  const checks: string[] = [];
  for (const i of [...new Set([0, Math.floor(uploads.length / 2), uploads.length - 1])].filter((x) => x >= 0)) {
    const u = uploads[i]!;
    const got = await team.http.request('GET', `/api/items/${u.item}/attachments/${u.id}`, { cookie: member.cookie }, undefined, 120_000);
    const same = got.status === 200 && got.body.length === u.bytes && createHash('sha256').update(got.body).digest('hex') === u.sha256;
    checks.push(`#${i + 1} (${mb(u.bytes)}) ${same ? 'identical' : `DIFFERS (HTTP ${got.status}, ${got.body.length} bytes)`}`);
  }
  const all = await api<BackupList>('GET', `/tenants/${slug}/backups`, 200);
  const safety = all.backups.find((b) => b.id === restore.safety || (b.reason === 'pre-restore' && b.operation === restore.operation.id));
  const { events } = await api<TenantEventsReply>('GET', `/tenants/${slug}/events?limit=1000`, 200);
  const phases = events.filter((e) => Date.parse(e.at) >= backupAt && (e.type === 'tenant.phase' || e.type.startsWith('health.'))).sort((a, b) => a.seq - b.seq);
  team.http.close();

  // ---- the report ----
  const data = record.dataBytes;
  console.log(`\nbackup ${record.id}: ${record.state}, ${mb(data)} of files (${record.volumes.map((v) => `${v.volume} ${v.entries} entries ${mb(v.bytes)}`).join(', ')}), ${mb(record.bytes ?? NaN)} sealed on the target`);
  console.log(`  duration: ${s(backupWall)} from the API call to the operation's end (${rate(data, backupWall)}); the record's durationMs ${s(record.durationMs)} (${rate(data, record.durationMs)})`);
  console.log(`  pause (the record's pauseMs: database and storage frozen): ${s(record.pauseMs)}`);
  console.log(`  steps (s): ${stepTimes(backupEvents)}`);
  console.log(`yardstick: GNU tar -cf <file> of the same ${mounts.length} volumes (${mb(tarBytes)}), the file on ${sameFs ? 'the same filesystem as' : 'ANOTHER filesystem than'} the backup directory, volumes ${volumesFs ? 'on that filesystem too' : 'on another filesystem'}; run after the backup (a cache as warm as the backup's, or warmer): ${s(tarMs)} (${rate(tarBytes, tarMs)})`);
  console.log(`  (reference: tar piped to the bench and thrown away, ${mb(pipedBytes)}: ${s(pipedMs)}, ${rate(pipedBytes, pipedMs)}; tar's warnings: ${tarWarnings})`);
  const ratio = backupWall / tarMs;
  console.log(`  backup / tar = ${ratio.toFixed(2)}× (API call to end; record's durationMs: ${(record.durationMs / tarMs).toFixed(2)}×)   target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  console.log(`restore over the team (confirm): ${s(restoreWall)} from the API call to the operation's end (${rate(data, restoreWall)} of files)`);
  console.log(`  steps (s): ${stepTimes(restoreEvents)}`);
  const replaceAt = stepAt(restoreEvents, 'replace');
  if (replaceAt) console.log(`  from "replace" (the team taken down) to the end: ${s(restoreEnd - replaceAt)} (${rate(data, restoreEnd - replaceAt)})`);
  console.log(`  the member had no board for ${s(longestGap(reader.samples, restoreAt, restoreEnd, false))} (from the last answer before the team went down to the first after)`);
  if (safety) console.log(`  its pre-restore backup ${safety.id}: ${s(safety.durationMs ?? NaN)}, paused ${s(safety.pauseMs ?? NaN)}${safety.pauseMs === 0 ? ' (not frozen: the team served on meanwhile, so that copy is not of one instant)' : ''} (${rate(safety.dataBytes ?? 0, safety.durationMs ?? NaN)}): a second sample of the backup`);
  console.log(`  after it: the board has ${count} items (expected ${ITEMS}: ${count === ITEMS ? 'ok' : 'WRONG'}); attachments: ${checks.join(', ') || 'none uploaded'}`);

  console.log(`\nthe member reading the board (requests by when they were sent; ms):`);
  console.log(`  ${'window'.padEnd(26)} ${'sent'.padStart(5)} ${'failed'.padStart(6)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)} ${'no board for'.padStart(13)}  failures`);
  for (const [what, from, to] of windows) {
    const w = windowOf(reader.samples, from, to);
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-').padStart(8);
    console.log(`  ${what.padEnd(26)} ${String(w.n).padStart(5)} ${String(w.failed.total()).padStart(6)} ${f(percentile(w.ms, 50))} ${f(percentile(w.ms, 95))} ${f(w.ms.length ? Math.max(...w.ms) : NaN)} ${(s(w.wait)).padStart(13)}  ${w.failed}`);
  }
  console.log(`  (the restore takes the team down by design: its failures are the downtime, not errors)`);
  console.log(`team phases and health events from the backup on: ${phases.map((e) => `${e.type} ${JSON.stringify(e.data)}`).join('; ') || 'none'}`);
  console.log(`retries: ${retries} (only nginx's 429s are retried, and reopened event streams); reader failures: in the windows above; skipped samples: 0 (the reader waits for each answer)`);
  console.log(`load average at end ${load()}`);
} finally {
  await cleanup();
}
