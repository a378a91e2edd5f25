// Wires the orchestrator together from configuration: the server boots it,
// integration tests build the very same thing against their own database,
// nginx prefix and platform id.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp, type BeforeSerialize } from './app.js';
import { Metrics } from '../api/metrics.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { TokensService } from '../auth/tokens.service.js';
import type { PlatformConfig } from '../config/config.js';
import { loadPlatformKey, SecretBox } from '../crypto/secret-box.js';
import { connectDatabase, type Database } from '../db/mongo.js';
import { EventBus } from '../events/event-bus.js';
import { HealthMonitor } from '../health/monitor.js';
import type { Logger } from '../log.js';
import { withDeadlines } from '../runtime/deadlines.js';
import { EdgeActivity, type Activity } from '../proxy/edge-activity.js';
import { NginxSupervisor } from '../proxy/nginx-supervisor.js';
import { RouteManager } from '../proxy/route-manager.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { createOnboardingModule, type OnboardingModule } from '../onboarding/onboarding.module.js';
import { createOperatorsModule, signInLimitOf, type OperatorsModule } from '../operators/operators.module.js';
import { stackImages } from '../stacks/images.js';
import { loadTemplates } from '../stacks/template-loader.js';
import { StatsCollector } from '../stats/stats.collector.js';
import { StorageUse } from '../storage/storage-use.js';
import { spawnPty } from '../terminal/pty.js';
import { TerminalService } from '../terminal/terminal.service.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { PHASES } from '../tenants/tenant.types.js';
import type { Operations } from '../tenants/operations.js';
import type { TenantLogs } from '../tenants/tenant-logs.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { TenantViews } from '../tenants/tenant-views.js';
import { createTenantsModule } from '../tenants/tenants.module.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { createUpgradesModule, type UpgradesModule } from '../upgrades/upgrades.module.js';
import { ensurePlatformDb } from './platform-db.js';
import { diskFreeOf, readMemAvailable, type DiskReader, type MemoryReader } from '../capacity/host.js';
import { Admission } from '../capacity/admission.js';
import { MeasurementRunner } from '../capacity-measure/measurement-runner.js';
import { LABEL } from '../runtime/labels.js';
import { MeasurementsRepository } from '../capacity-measure/measurements.repository.js';
import { SleepPolicy } from '../sleep/sleep-policy.js';
import { Waker } from '../sleep/waker.js';
import { startWakeServer, type WakeServer } from '../sleep/wake-server.js';
import type { SleepCommands } from '../tenants/sleep-commands.js';
import { startMailRelay } from './mail-relay.js';
import { BackupMaker } from '../backups/backup-maker.js';
import { backupTargetOf } from '../backups/backup-target.js';
import { BackupsRepository } from '../backups/backups.repository.js';
import { BackupService } from '../backups/backups.service.js';
import { BackupScheduler } from '../backups/backup-scheduler.js';
import type { MailRelay } from '../mail-relay/mail-relay.js';

/** Walking a large /data takes a while; longer means the store is in trouble. */
const STORAGE_EXEC_TIMEOUT_MS = 30_000;

export interface Platform {
  app: FastifyInstance;
  db: Database;
  runtime: ContainerRuntime;
  repo: TenantsRepository;
  /** Tenant commands (create, start, stop, …). */
  tenants: TenantsService;
  tenantViews: TenantViews;
  tenantLogs: TenantLogs;
  stacks: TenantStacks;
  /** The one owner of tenant operations and phases. */
  operations: Operations;
  events: EventBus;
  tokens: TokensService;
  audit: AuditRepository;
  routes: RouteManager;
  /** Every team's traffic at the edge, read from nginx once per stats pass. */
  activity: EdgeActivity;
  monitor: HealthMonitor;
  reconciler: Reconciler;
  /** Freeze, stop for sleep, wake. */
  sleep: SleepCommands;
  /** Idle teams go to sleep (a loop, once startLoops ran). */
  sleepPolicy: SleepPolicy;
  /** Wake on request: one wake per team however many requests wait. */
  waker: Waker;
  metrics: Metrics;
  operators: OperatorsModule;
  terminal: TerminalService;
  stats: StatsCollector;
  storage: StorageUse;
  onboarding: OnboardingModule;
  upgrades: UpgradesModule;
  /** Asked before work that takes new room on the host (create, start or wake from nothing, an upgrade's second app). */
  admission: Admission;
  /** `berth capacity measure`: load teams, the host sampled, a prediction. */
  measurements: MeasurementRunner;
  /** Backups and restores of teams (on demand, on schedule, before upgrades). */
  backups: BackupService;
  backupScheduler: BackupScheduler;
  /** Absent when BERTH_SMTP_URL is empty. */
  mail?: MailRelay;
  instanceId: string;
  /** First reconcile pass, then the periodic loops. */
  startLoops(): Promise<void>;
  close(): Promise<void>;
}

export async function createPlatform(
  config: PlatformConfig,
  log: Logger,
  options: {
    fastify?: FastifyServerOptions;
    healthTimeoutMs?: number;
    clock?: () => Date;
    /** Wraps the Docker driver (inside the deadlines): tests inject faults over the real engine. */
    wrapRuntime?: (runtime: ContainerRuntime) => ContainerRuntime;
    /** Sees every reply's payload before it is serialized (tests check it against the route's schema). */
    beforeSerialize?: BeforeSerialize;
    /** The host's MemAvailable (tests inject a shortage); default /proc/meminfo. */
    memory?: MemoryReader;
    /** Free space for teams' volumes (tests inject a shortage); default statfs of BERTH_CAPACITY_DISK_PATH. */
    disk?: DiskReader;
  } = {}
): Promise<Platform> {
  const docker = new DockerRuntime(log, config.dockerSocket);
  const runtime = withDeadlines(options.wrapRuntime?.(docker) ?? docker, config.deadlines.runtimeCallMs, log);
  await runtime.ping();
  const db = await connectDatabase(await ensurePlatformDb(runtime, config), config.mongoDb);
  const box = new SecretBox(await loadPlatformKey(config.home, config.platformKey));
  const templates = await loadTemplates(config.templatesDir);
  const instanceId = randomUUID();
  const metrics = new Metrics();
  const repo = new TenantsRepository(db.db);
  const events = new EventBus(db.db, log);
  const tokens = new TokensService(db.db);
  const audit = new AuditRepository(db.db);
  const operators = createOperatorsModule({ db: db.db, box, consoleUrl: config.consoleUrl, signInLimit: signInLimitOf(config), clock: options.clock });
  await Promise.all([repo.init(), events.init(), tokens.init(), audit.init(), operators.init()]);
  const routes = new RouteManager({ controlSocket: config.nginx.controlSocket, tableFile: config.nginx.tableFile, baseDomain: config.baseDomain, log });
  await routes.init();
  const nginxSupervisor = new NginxSupervisor({
    target: { bin: config.nginx.bin, prefix: config.nginx.prefix, confFile: config.nginx.confFile },
    pidFile: path.join(config.nginx.prefix, 'nginx.pid'),
    controlSocket: config.nginx.controlSocket,
    log,
    restore: () => routes.restore()
  });
  const activity = new EdgeActivity({ controlSocket: config.nginx.controlSocket, log, clock: options.clock });
  const storage = new StorageUse(runtime, log, { maxAgeMs: config.storage.maxAgeMs, timeoutMs: STORAGE_EXEC_TIMEOUT_MS });
  // A relay that cannot start (bad BERTH_MAIL_FROM, port taken) must not leave the database client holding the process open.
  const mail = await startMailRelay(config, runtime, box, repo, log).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  // Every refusal is an event operators see (the dashboard's feed, the event stream); the asker gets CAPACITY.
  const admission = new Admission({
    memory: options.memory ?? readMemAvailable,
    disk: options.disk ?? diskFreeOf(config.capacity.diskPath),
    reserve: () => config.capacity,
    refused: (need, refusal) => void events.publish({ type: 'capacity.refused', tenant: need.tenant, data: { work: need.work, plan: need.plan, ...refusal } })
      .catch((err: Error) => log.warn({ err: err.message }, 'capacity refusal not recorded')),
    log
  });
  const t = createTenantsModule({ config, repo, runtime, templates, router: routes, events, box, metrics, storage, activity, log, instanceId, mail, healthTimeoutMs: options.healthTimeoutMs, clock: options.clock, admission });
  const { commands: tenants, views: tenantViews, logs: tenantLogs, stacks, operations, sleep } = t;
  const monitor = new HealthMonitor(repo, runtime, stacks, operations, events, metrics, log, {
    intervalMs: config.health.intervalMs,
    failuresBeforeDegraded: config.health.failuresBeforeDegraded,
    platformId: config.platformId,
    crashes: { crashLoopRestarts: config.healing.crashLoopRestarts, crashLoopWindowMs: config.healing.crashLoopWindowMs, busyWaitMs: config.deadlines.operationMs },
    clock: options.clock,
    containers: () => t.live.refresh()
  });

  const reconciler = new Reconciler(repo, runtime, stacks, operations, routes, events, log, {
    resumers: {
      upgrade: (doc, op) => upgrades.swap.resume(doc, op),
      backup: (doc, op) => backups.resumeBackup(doc, op),
      restore: (doc, op) => backups.resumeRestore(doc, op)
    },
    platformId: config.platformId,
    instanceId,
    intervalMs: config.reconcileIntervalMs,
    containers: () => t.live.refresh()
  });

  const terminal = new TerminalService({
    runtime,
    containerOf: (slug, service) => tenantLogs.containerOf(slug, service),
    audit,
    events,
    log,
    spawn: spawnPty,
    idleMs: config.terminal.idleMs,
    dockerSocket: config.dockerSocket,
    home: config.home,
    clock: options.clock
  });
  const clock = options.clock ?? (() => new Date());
  const sleepPolicy = new SleepPolicy({
    repo, stacks, sleep, activity, terminals: terminal, memory: options.memory ?? readMemAvailable, log, clock,
    intervalMs: config.sleep.intervalMs, minAvailableBytes: config.sleep.minAvailableBytes, pressureBatch: config.sleep.pressureBatch
  });
  // A wake waits for an operation in flight (a freeze) at most as long as an operation may last.
  const waker = new Waker({ repo, sleep, log, busyWaitMs: config.deadlines.operationMs });
  let wakeServer: WakeServer | undefined;
  // A sleeper an upgrade woke stays awake if anyone used it meanwhile: a request nginx counted, an open WebSocket or terminal.
  // nginx not answering must not fail an upgrade: the last counts read stand in.
  const freshActivity = () => activity.refresh().catch((err: Error) => log.warn({ err: err.message }, 'edge activity not read; using the last counts'));
  const visits = {
    mark: async (slug: string) => (await freshActivity(), activity.activity(slug).requests),
    since: async (slug: string, mark: number) => {
      await freshActivity();
      const a = activity.activity(slug);
      return a.requests > mark || a.openWebSockets > 0 || terminal.openFor(slug);
    }
  };
  const backupKey = box.keyFor('backup');
  const backupsRepo = new BackupsRepository(db.db);
  const backups = new BackupService({
    repo: backupsRepo, tenants: repo, commands: tenants, operations, stacks, steps: t.steps, router: routes, runtime,
    appImage: (v) => stackImages(config, v).app,
    maker: new BackupMaker({ runtime, platformId: config.platformId, key: backupKey, log, clock: options.clock }),
    target: backupTargetOf(config.backups), key: backupKey, events, metrics, log, platformId: config.platformId, instanceId, clock: options.clock ?? (() => new Date())
  });
  await backups.init();
  const backupScheduler = new BackupScheduler({ service: backups, tenants: repo, repo: backupsRepo, intervalMs: config.backups.intervalMs, parallel: config.backups.parallel, log, clock: options.clock ?? (() => new Date()) });
  const backupBefore = async (slug: string) => {
    const { backup, done } = await backups.create(slug, 'pre-upgrade');
    const end = await done;
    return end.type === 'operation.succeeded' ? { ok: true as const, id: backup.id } : { ok: false as const, id: backup.id, code: end.code ?? 'BACKUP_FAILED', message: end.message ?? 'the backup failed' };
  };
  const upgrades = createUpgradesModule({ db: db.db, config, tenantsRepo: repo, stacks, operations, runtime, router: routes, sleep, visits, events, log, instanceId, admission, backupBefore });
  await upgrades.init();
  const stats = new StatsCollector(repo, runtime, events, log, { platformId: config.platformId, ...config.stats, containers: () => t.live.refresh() }, activity);
    const defaultTemplate = templates.get('tenant');
  let loops = false;
  const measurements = new MeasurementRunner({
    repo: new MeasurementsRepository(db.db), tenants, views: tenantViews, events, log,
    readTeam: (slug) => stats.forTenant(slug),
    teamsDiskBytes: async (slugs) => {
      const mine = { [LABEL.platform]: config.platformId };
      const [volumes, sizes] = await Promise.all([runtime.listVolumes(mine), runtime.volumeSizes(mine)]);
      return volumes.filter((v) => slugs.includes(v.labels[LABEL.tenant] ?? '')).reduce((sum, v) => sum + (sizes.get(v.name) ?? 0), 0);
    },
    portsFree: async () => config.portRange.to - config.portRange.from + 1 - (await repo.usedPorts()).size,
    edge: { port: config.nginx.httpPort, baseDomain: config.baseDomain },
    tlsMode: config.tls.mode,
    memory: options.memory ?? readMemAvailable,
    disk: options.disk ?? diskFreeOf(config.capacity.diskPath),
    reserve: () => config.capacity,
    ranWith: {
      template: 'tenant',
      plan: defaultTemplate?.template['x-berth'].default_plan ?? 'unknown',
      appVersion: config.defaultAppVersion,
      intervalsMs: { health: config.health.intervalMs, reconcile: config.reconcileIntervalMs, stats: config.stats.intervalMs, sleep: config.sleep.intervalMs }
    },
    loops: () => loops,
    operationMs: config.deadlines.operationMs,
    clock: options.clock
  });
  await measurements.init();
  const onboarding = createOnboardingModule({ db: db.db, config, box, tenants: { commands: tenants, views: tenantViews, stacks }, events, templates, log, clock: options.clock });
  await onboarding.init();

  metrics.gauge('berth_wakes_started_total', 'Wake operations started on request (concurrent requests share one)', async () => [[{}, waker.wakesStarted]]);
  metrics.gauge('berth_terminals_open', 'Console terminals open now', async () => [[{}, terminal.count()]]);
  // Every phase, 0 when none: a dashboard sums and graphs a series that exists, not one that appears with its first team.
  metrics.gauge('berth_tenants', 'Tenants by phase', async () => {
    const counts = await repo.countByPhase();
    return PHASES.map((phase) => [{ phase }, counts[phase] ?? 0]);
  });
  metrics.gauge('berth_route_changes_total', 'Route changes nginx took since start', async () => [[{}, routes.stats().changes]]);
  metrics.gauge('berth_route_change_failures_total', 'Route changes refused or not delivered', async () => [[{}, routes.stats().failures]]);
  metrics.gauge('berth_route_change_seconds_total', 'Time spent applying route changes', async () => [[{}, routes.stats().totalChangeMs / 1000]]);
  const perTenant = (pick: (a: Activity) => number) => async () => activity.all().map(([tenant, a]): [Record<string, string>, number] => [{ tenant }, pick(a)]);
  metrics.counterFrom('berth_tenant_requests_total', 'Requests nginx answered for each team (counted when they end)', perTenant((a) => a.requests));
  metrics.counterFrom('berth_tenant_request_errors_total', 'Answers with status >= 500 for each team, Berth\'s own 503 pages included', perTenant((a) => a.errors));
  metrics.gauge('berth_tenant_open_websockets', 'WebSockets open through nginx for each team', perTenant((a) => a.openWebSockets));
  metrics.gauge('berth_tenant_last_request_timestamp_seconds', 'When each team\'s last request ended', async () =>
    activity.all().flatMap(([tenant, a]): [Record<string, string>, number][] => (a.lastRequestAt ? [[{ tenant }, a.lastRequestAt.getTime() / 1000]] : [])));
  metrics.gauge('berth_route_table_write_failures_total', 'Route table file writes that failed (nginx would start from an older table)', async () => [[{}, routes.stats().writeFailures]]);
  metrics.gauge('berth_nginx_restarts_total', 'nginx masters the supervisor restarted', async () => [[{}, nginxSupervisor.restarts]]);

  const version = config.defaultAppVersion;
  const images = stackImages(config, version);
  const templateImages = { IMAGE_APP: images.app, IMAGE_DB: images.db, IMAGE_STORAGE: images.storage, APP_VERSION: version };
  const app = await buildApp({ db: db.db, tenants, tenantViews, tenantLogs, events, tokens, audit, metrics, version, operators, terminal, stats, templates, templateImages, upgrades: upgrades.service, appRepo: config.images.appRepo, capacity: { admission, repo, templates, diskPath: config.capacity.diskPath, clock: options.clock }, measurements, backups, onboarding: { module: onboarding, config: config.onboarding } }, options.fastify, { beforeSerialize: options.beforeSerialize });
  return {
    app, db, runtime, repo, tenants, backups, backupScheduler, tenantViews, tenantLogs, stacks, operations, events, tokens, audit, routes, activity, monitor, reconciler, sleep, sleepPolicy, waker, metrics, operators, terminal, stats, storage, onboarding, upgrades, admission, measurements, mail, instanceId,
    async startLoops() {
      // nginx may have started from an older table (a corrupt file's last good
      // copy); the reconciler compares with ours, so nginx must hold ours first.
      await nginxSupervisor.check();
      // Before any route points at it: sleeping teams' requests come here.
      wakeServer = await startWakeServer(config.wake.port, { ask: (slug, waitMs) => waker.ask(slug, waitMs), holdMs: config.wake.holdMs, log });
      await routes.restore();
      nginxSupervisor.start();
      await reconciler.pass();
      // After the first pass: it finished or undid the upgrade operations a dead process left.
      await upgrades.runner.start();
      // Load teams a dead process left are removed, and its report says so.
      await measurements.recover();
      // Backups a dead process left running are failed, never complete.
      await backups.recover();
      await monitor.start();
      reconciler.start();
      stats.start();
      sleepPolicy.start();
      backupScheduler.start();
      loops = true;
    },
    async close() {
      // Its load teams are removed while the tenants service still works.
      await measurements.stop();
      if (loops) {
        await nginxSupervisor.stop();
        monitor.stop();
        await reconciler.stop();
        await sleepPolicy.stop();
        await backupScheduler.stop();
        await stats.stop();
      }
      await wakeServer?.close();
      await terminal.close();
      await app.close();
      await onboarding.close();
      await upgrades.runner.stop();
      await operations.settled();
      // The table file follows route changes behind them: the last ones go to disk before the process ends.
      await routes.flush().catch((err: unknown) => log.error({ err: (err as Error).message }, 'route table file not written at shutdown'));
      await mail?.stop();
      await db.close();
    }
  };
}
