// The whole orchestrator for an integration test, on real parts of its own:
// a FerretDB platform database container, a private nginx, a temporary home,
// and a unique platform id so its reconciler touches only what the test made.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type PlatformConfig } from '../../src/config/config.js';
import type { Logger } from '../../src/log.js';
import { createPlatform, type Platform } from '../../src/platform/platform.js';
import { ensurePlatformDb, removePlatformDb } from '../../src/platform/platform-db.js';
import { downStack } from '../../src/stacks/stack-runner.js';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';
import { freePort, startNginx, type EdgeEnv, type TestNginx } from './nginx.js';
import { runtime } from './docker.js';
import { testLogger } from './test-log.js';

export interface TestPlatform {
  platform: Platform;
  config: PlatformConfig;
  nginx: TestNginx;
  /** Admin bearer token. */
  token: string;
  /** A fresh platform on the same database, nginx and home: an orchestrator restart. */
  restart(): Promise<Platform>;
  close(): Promise<void>;
}

/** Environment for a process (orchestrator, CLI) pointed at this test platform. */
export function platformEnv(config: PlatformConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    BERTH_HOME: config.home,
    BERTH_PLATFORM_ID: config.platformId,
    BERTH_MONGO_DB: config.mongoDb,
    BERTH_PLATFORM_DB_CONTAINER: config.platformDb.container,
    BERTH_MAIL_RELAY_PORT: String(config.mailRelay.port),
    BERTH_WAKE_PORT: String(config.wake.port),
    BERTH_HTTP_PORT: String(config.nginx.httpPort),
    BERTH_BACKUP_DIR: config.backups.dir,
    BERTH_LOG_LEVEL: 'warn',
    ...extra
  };
}

// The slices of 100 ports between 30000 and 39999, in lanes: test files tap
// runs at the same time hold different TAP_JOB_IDs (0 to jobs-1), so their
// platforms take slices of different lanes and never the same one; within a
// file, platforms take the lane's slices in turn; the random start keeps
// another worktree's run (which may be in the same lane) apart by chance.
const LANES = 4;
const lane = Number(process.env.TAP_JOB_ID ?? 0) % LANES;
let slice = randomInt(100 / LANES);
function nextPortSlice(): { from: number; to: number } {
  const from = 30_000 + ((slice++ % (100 / LANES)) * LANES + lane) * 100;
  return { from, to: from + 99 };
}

/** A platform of its own for one test; its log goes to test-logs/<test file>/<platform id>.log unless `log` is given. */
export async function startTestPlatform(
  tag: string,
  overrides: Partial<PlatformConfig> = {},
  log?: Logger,
  options: Pick<NonNullable<Parameters<typeof createPlatform>[2]>, 'wrapRuntime' | 'beforeSerialize' | 'clock'> & {
    /** nginx's TLS settings (scripts/nginx-edge), e.g. { BERTH_TLS_MODE: 'local-ca' }; config.tls follows them. */
    edge?: EdgeEnv;
  } = {}
): Promise<TestPlatform> {
  const { edge, ...platformOptions } = options;
  const id = `${tag}-${randomBytes(3).toString('hex')}`;
  const logger = log ?? testLogger(`t-${id}`).log;
  const home = await mkdtemp(path.join(os.tmpdir(), `berth-${id}-`));
  const nginx = await startNginx(home, { edge });
  const base = loadConfig({ ...process.env, ...edge, BERTH_HTTPS_PORT: String(nginx.httpsPort), BERTH_HTTP_PORT: String(nginx.port) });
  const config: PlatformConfig = {
    ...base,
    home,
    platformId: `t-${id}`,
    mongoDb: `t_${id.replace(/-/g, '_')}`,
    // Its socket lives under the temporary home, which only root can enter (mkdtemp: 0700).
    platformDb: { container: `berth-test-db-${id}` },
    // A port of its own, fixed for the platform's life: a restart must render the same relay URL.
    mailRelay: { ...base.mailRelay, port: await freePort() },
    // The wake listener's port too: routes of sleeping teams name it.
    wake: { ...base.wake, port: await freePort() },
    mongoUrl: undefined,
    // Its backups under its home: removed with it.
    backups: { ...base.backups, dir: path.join(home, 'backups') },
    // A slice of its own, away from the production range: a platform allocates
    // the lowest free port, and the app binds it only once its stack is
    // healthy, so two platforms sharing a range (another test run, or the
    // README's platform) would pick the same port and one would move its app.
    portRange: nextPortSlice(),
    nginx: { bin: base.nginx.bin, prefix: nginx.prefix, confFile: nginx.confFile, controlSocket: nginx.controlSocket, tableFile: nginx.tableFile, httpPort: nginx.port },
    ...overrides
  };
  // A test that sets the wake bound keeps a port of its own all the same.
  if (overrides.wake && overrides.wake.port === base.wake.port) config.wake = { ...overrides.wake, port: await freePort() };
  let platform: Platform;
  try {
    await ensurePlatformDb(runtime, config);
    platform = await createPlatform(config, logger, { healthTimeoutMs: 60_000, ...platformOptions });
  } catch (err) {
    // Nothing of a platform that never came up is left behind, nginx included
    // when the engine is what failed (and so fails this removal too).
    await removePlatformDb(runtime, config.platformDb.container, true)
      .catch((cleanup: unknown) => logger.error({ err: cleanup }, 'the platform database of a platform that never came up was not removed'));
    await nginx.stop();
    await rm(home, { recursive: true, force: true });
    throw err;
  }
  const { token } = await platform.tokens.create({ name: 'test-admin', scope: 'admin' });
  return {
    get platform() {
      return platform;
    },
    config,
    nginx,
    token,
    async restart() {
      platform = await createPlatform(config, logger, { healthTimeoutMs: 60_000, ...platformOptions });
      return platform;
    },
    async close() {
      // A test may have broken the registry's database on purpose (security tests).
      // The database, not the registry's memory: a second platform in the
      // test (another orchestrator on the same registry) may have made some.
      const slugs = await platform.db.db.collection<TenantDoc>('tenants').find({}, { projection: { _id: 1 } }).toArray()
        .then((docs) => docs.map((d) => d._id), () => []);
      await platform.close().catch(() => {});
      // Every container first: a network two teams came to share (a name
      // collision test) can go only once neither is attached. Stacks the
      // registry lost track of (a test killed mid-create) carry the label too.
      const left = await runtime.listContainers({ 'berth.platform': config.platformId });
      for (const c of left) await runtime.removeContainer(c.name);
      for (const slug of new Set([...slugs, ...left.map((c) => c.labels['berth.tenant']!)])) {
        await downStack(runtime, slug, { deleteData: true, platform: config.platformId });
      }
      try {
        await removePlatformDb(runtime, config.platformDb.container, true);
      } finally {
        await nginx.stop();
        await rm(home, { recursive: true, force: true });
      }
    }
  } as TestPlatform;
}

/**
 * A tenant as the platform database holds it now. The in-process platform's
 * repository answers from its own memory, so a test that lets another
 * orchestrator process write (crash tests) reads the database itself.
 */
export async function storedTenant(tp: TestPlatform, slug: string): Promise<TenantDoc | null> {
  return tp.platform.db.db.collection<TenantDoc>('tenants').findOne({ _id: slug });
}
