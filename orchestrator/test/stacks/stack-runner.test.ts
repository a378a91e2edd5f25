// Against the real Docker engine and the images scripts/build-images made.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT_DIR } from '../../src/config/config.js';
import { httpGet } from '../../src/runtime/http-get.js';
import { stackImages } from '../../src/stacks/images.js';
import { names } from '../../src/names.js';
import { renderStack } from '../../src/stacks/render.js';
import { generateSecrets } from '../../src/stacks/secrets.js';
import { downStack, stackStatus, upStack } from '../../src/stacks/stack-runner.js';
import { loadTemplate } from '../../src/stacks/template-loader.js';
import { config, docker, runtime, testSlug } from '../helpers/docker.js';
import { assertStartSteps } from '../helpers/start-steps.js';

const slug = testSlug('stack');
// Its own platform id: no orchestrator's reconciler takes this stack for an orphan of its own.
const platform = `test-${slug}`;
const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const spec = renderStack(loaded, {
  slug,
  appVersion: config.defaultAppVersion,
  images: stackImages(config, config.defaultAppVersion),
  secrets: generateSecrets(loaded),
  platform
});
t.teardown(() => downStack(runtime, slug, { deleteData: true, platform }));
const app = names.container(slug, 'app');
const db = names.container(slug, 'db');
const internal = names.internalNetwork(slug);
const edge = names.edgeNetwork(slug);

async function healthz(port: number) {
  const { status, body } = await httpGet(`http://127.0.0.1:${port}/healthz`, 10_000);
  return { status, body: JSON.parse(body) as { status: string; failed: string[]; message?: string } };
}

/** Polls /healthz until it answers `want`, with a deadline. */
async function untilHealthz(port: number, want: number, deadlineMs = 30_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answer = await healthz(port).catch((err: Error) => ({ status: 0, body: { status: err.message, failed: [] as string[], message: undefined as string | undefined } }));
    if (answer.status === want || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 200));
  }
}

let port = 0;

/** The runtime, with every CPU limit it is asked to give recorded (the calls still reach the engine). */
const cpuCalls: string[] = [];
const observed = new Proxy(runtime, {
  get(target, prop, receiver) {
    if (prop === 'createContainer') return (spec: Parameters<typeof runtime.createContainer>[0]) => (cpuCalls.push(`create ${spec.name} ${spec.limits.nanoCpus}`), target.createContainer(spec));
    if (prop === 'setCpus') return (name: string, nano: number) => (cpuCalls.push(`set ${name} ${nano}`), target.setCpus(name, nano));
    return Reflect.get(target, prop, receiver) as unknown;
  }
});

t.test('the default stack comes up on its own network, its services started together, each gated on its probe', async (t) => {
  const steps: string[] = [];
  const up = await upStack(observed, spec, { startCpus: 2, probeIntervalMs: 50, onStep: (s) => steps.push(s.step === 'service' ? `${s.service}:${s.status}` : s.step) });
  port = up.publishedPort;
  t.ok(port > 0, `app published on 127.0.0.1:${port}`);
  assertStartSteps(t, steps);
  const lastStarting = Math.max(...spec.services.map((s) => steps.indexOf(`${s.name}:starting`)));
  const firstHealthy = Math.min(...spec.services.map((s) => steps.indexOf(`${s.name}:healthy`)));
  t.ok(lastStarting < firstHealthy, `no service waited for another's health: the template has no depends_on (${steps.join(', ')})`);

  const members = async (network: string) =>
    Object.values(JSON.parse(await docker('network', 'inspect', network, '--format', '{{json .Containers}}')) as Record<string, { Name: string }>)
      .map((c) => c.Name)
      .sort();
  t.same(await members(internal), [app, db, names.container(slug, 'storage')]);
  t.equal(await docker('network', 'inspect', internal, '--format', '{{.Internal}}'), 'true', 'no route out of the private network');
  t.same(await members(edge), [app], 'only the app is on the edge network');
  const binding = await docker('port', app, '3000');
  t.equal(binding, `127.0.0.1:${port}`, 'published on loopback only');
  t.equal(await docker('port', db), '', 'the database publishes nothing');
  const host = JSON.parse(await docker('inspect', app, '--format', '{{json .HostConfig}}')) as Record<string, unknown>;
  t.equal(host.Memory, 256 * 1024 ** 2, 'memory limit from the plan');
  t.same(host.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 }, 'Docker never restarts it behind Berth');
});

t.test('a service starts with the start-up CPUs and is held to its plan\'s once healthy', async (t) => {
  for (const service of spec.services) {
    const { name, limits } = service.container;
    t.ok(cpuCalls.includes(`create ${name} ${2e9}`), `${service.name}: created with 2 CPUs`);
    t.ok(cpuCalls.includes(`set ${name} ${limits.nanoCpus}`), `${service.name}: then set to its plan's`);
    t.equal(Number(await docker('inspect', name, '--format', '{{.HostConfig.NanoCpus}}')), limits.nanoCpus, `${service.name}: NanoCpus ${limits.nanoCpus} now, as its plan says`);
  }
});

t.test('a container a crash left with its start-up CPUs is held to its plan by the next up', async (t) => {
  // What an orchestrator killed between start and health leaves behind; the
  // reconciler resumes its operation, which runs this up again.
  await docker('update', '--cpus', '2', app);
  t.equal(Number(await docker('inspect', app, '--format', '{{.HostConfig.NanoCpus}}')), 2e9);
  const before = await docker('inspect', app, '--format', '{{.Id}}');
  await upStack(runtime, spec);
  t.equal(await docker('inspect', app, '--format', '{{.Id}}'), before, 'the same container, not recreated');
  t.equal(Number(await docker('inspect', app, '--format', '{{.HostConfig.NanoCpus}}')), spec.services.find((s) => s.name === 'app')!.container.limits.nanoCpus, 'back to its plan');
});

t.test('a service that does not pass its probe in time is named in the error', async (t) => {
  const broken = { ...spec, services: spec.services.map((s) => (s.name === 'storage' ? { ...s, probe: { exec: ['berth-probe', 'http', 'http://127.0.0.1:1/'] } } : s)) };
  const err = (await upStack(runtime, broken, { healthTimeoutMs: 1000, probeIntervalMs: 50 }).catch((e: unknown) => e)) as { code?: string; message?: string; details?: unknown };
  t.equal(err.code, 'HEALTH_TIMEOUT');
  t.match(err.message, /^service storage did not pass its probe within 1000 ms; last answer: /);
  t.match(err.details, { service: 'storage', step: 'storage:starting' }, 'the step is the failed service\'s own, whatever its siblings reported last');
});

t.test('every service runs hardened: no capabilities, no-new-privileges, a pids limit, non-root, read-only root', async (t) => {
  for (const service of spec.services) {
    const c = JSON.parse(await docker('inspect', service.container.name, '--format', '{{json .}}')) as {
      HostConfig: { CapDrop: string[]; CapAdd: string[] | null; SecurityOpt: string[]; PidsLimit: number; ReadonlyRootfs: boolean; Privileged: boolean; Tmpfs: Record<string, string> };
      Config: { User: string };
      State: { Pid: number };
    };
    const h = c.HostConfig;
    t.same(h.CapDrop, ['ALL'], `${service.name}: every capability dropped`);
    t.same(h.CapAdd ?? [], [], `${service.name}: none added`);
    t.same(h.SecurityOpt, ['no-new-privileges:true'], `${service.name}: no-new-privileges`);
    t.equal(h.PidsLimit, service.container.limits.pids, `${service.name}: pids limit ${h.PidsLimit} from the plan`);
    t.equal(h.ReadonlyRootfs, true, `${service.name}: read-only root filesystem`);
    t.equal(h.Privileged, false);
    t.ok(Object.keys(h.Tmpfs ?? {}).includes('/tmp'), `${service.name}: /tmp is a tmpfs`);
    // The process itself, as the kernel sees it (the image's user, not only its config).
    const status = await readFile(`/proc/${c.State.Pid}/status`, 'utf8');
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    t.equal(uids?.[1], '65534', `${service.name}: runs as uid ${uids?.[1]} (not root)`);
    t.equal(uids?.[2], '65534');
    t.match(status, /^NoNewPrivs:\s+1$/m, `${service.name}: the kernel has no_new_privs set`);
    t.match(status, /^CapEff:\s+0+$/m, `${service.name}: no effective capabilities`);
    const root = (await readFile(`/proc/${c.State.Pid}/mounts`, 'utf8')).split('\n').find((line) => line.split(' ')[1] === '/');
    t.match(root?.split(' ')[3], /^ro,/, `${service.name}: its / is mounted read-only`);
  }
});

t.test('/healthz is 200 through the published port', async (t) => {
  const { status, body } = await healthz(port);
  t.equal(status, 200);
  t.equal(body.status, 'ok');
  const version = await httpGet(`http://127.0.0.1:${port}/version`, 5000);
  t.same(JSON.parse(version.body), { name: 'berth-tenant-app', version: config.defaultAppVersion });
});

t.test('stopping the db makes /healthz 503 naming the db; starting it brings 200 back', async (t) => {
  await runtime.stopContainer(db, 5);
  const down = await untilHealthz(port, 503, 15_000);
  t.equal(down.status, 503);
  t.same(down.body.failed, ['db'], 'only the db failed');
  t.match(down.body.message, /^db: /);
  const status = await stackStatus(runtime, spec);
  t.equal(status.services.db!.state, 'exited');
  t.equal(status.services.app!.healthy, false);

  await runtime.startContainer(db);
  const back = await untilHealthz(port, 200, 30_000);
  t.equal(back.status, 200, 'healthy again once the db is back');
});

t.test('bringing the stack up again is a no-op that finds it healthy', async (t) => {
  const before = await docker('inspect', app, '--format', '{{.Id}}');
  const again = await upStack(runtime, spec);
  t.equal(again.publishedPort, port);
  t.equal(await docker('inspect', app, '--format', '{{.Id}}'), before, 'same container');
});

t.test('a half-made container (killed before joining its edge network) is replaced', async (t) => {
  const routed = spec.services.find((s) => s.name === 'app')!;
  await runtime.removeContainer(routed.container.name);
  // What a process killed between create and connect leaves: same spec, one network.
  await runtime.createContainer({ ...routed.container, networks: [routed.container.networks[0]!] });
  const again = await upStack(runtime, spec);
  t.ok(again.publishedPort > 0, 'published again');
  const nets = JSON.parse(await docker('inspect', app, '--format', '{{json .NetworkSettings.Networks}}')) as Record<string, unknown>;
  t.same(Object.keys(nets).sort(), [edge, internal].sort());
  t.equal((await healthz(again.publishedPort)).status, 200);
  port = again.publishedPort;
});

t.test('the app shuts down cleanly on SIGTERM', async (t) => {
  // docker stop sends SIGTERM and only SIGKILLs (exit 137) after the timeout.
  await docker('stop', '--time', '20', app);
  t.equal(await docker('inspect', app, '--format', '{{.State.ExitCode}}'), '0', 'exited by itself, not killed');
  const logs = await docker('logs', app);
  t.notMatch(logs, /Error|unhandled/i, 'no errors while shutting down');
});

t.test('down removes the containers and network; volumes only with deleteData', async (t) => {
  await downStack(runtime, slug, { deleteData: false, platform });
  t.equal(await docker('ps', '-aq', '--filter', `label=berth.tenant=${slug}`), '');
  t.equal(await docker('network', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '');
  t.equal((await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`)).split('\n').length, 2, 'data kept');
  await downStack(runtime, slug, { deleteData: true, platform });
  t.equal(await docker('volume', 'ls', '-q', '--filter', `label=berth.tenant=${slug}`), '', 'data deleted on request');
});
