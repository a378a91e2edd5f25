// A backup of each team before its upgrade (issue 15 item 2), on the real
// engine: by default the job takes one (its id in the job's entry, a
// complete pre-upgrade backup in the team's list) and then upgrades; when the
// backup fails (the engine refuses to read the team's volume, injected over
// the real engine) the team is not upgraded, keeps its version and serves,
// and its entry says BACKUP_FAILED; a job started with backup: best-effort
// goes on and reports the failure; backup: skip takes none.
import t from 'tap';
import type { ContainerRuntime, VolumeExport } from '../../src/runtime/types.js';
import { removeVersions, tagVersion, testVersion } from '../helpers/app-versions.js';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const slug = testSlug('pub');
let refuseRead = false;
const wrapRuntime = (inner: ContainerRuntime): ContainerRuntime =>
  new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'exportVolume') {
        return async (spec: VolumeExport, read: Parameters<ContainerRuntime['exportVolume']>[1]) => {
          if (refuseRead && spec.volume.includes(slug)) throw new Error('injected: the engine refused to read the volume');
          return target.exportVolume(spec, read);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    }
  });
const tp = await startTestPlatform('preupg', {}, undefined, { wrapRuntime });
const V1 = tp.config.defaultAppVersion;
const V2 = await tagVersion(testVersion('pb'));
const V3 = await tagVersion(testVersion('pc'));
t.teardown(async () => {
  await tp.close();
  await removeVersions(V2, V3);
});
const p = tp.platform;
const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
  const res = await p.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${tp.token}` }, ...(payload ? { payload } : {}) });
  return res.json() as Record<string, unknown>;
};
interface Entry { slug: string; state: string; error?: { code: string; message: string }; backup?: { id?: string; error?: { code: string; message: string } } }
const jobEnd = (id: string) => until(async () => {
  const job = await call('GET', `/upgrades/${id}`) as { state: string; tenants: Entry[] };
  return ['succeeded', 'failed', 'halted', 'cancelled'].includes(job.state) ? job : undefined;
}, 240_000, `job ${id} to end`, 250);
const upgrade = async (to: string, extra: object = {}) => {
  const job = await call('POST', '/upgrades', { toVersion: to, tenants: [slug], canary: 0, autoApprove: true, ...extra }) as { id: string };
  return (await jobEnd(job.id)).tenants[0]!;
};
const backups = async () => (await call('GET', `/tenants/${slug}/backups`)).backups as { id: string; reason: string; state: string; appVersion: string }[];
const version = async () => {
  const a = await throughNginx(tp, slug, 'GET', '/version');
  return a.status === 200 ? (JSON.parse(a.body.toString()) as { version: string }).version : `HTTP ${a.status}`;
};

const made = await p.tenants.create({ slug });
t.equal((await operationEnd(p.events, made.operation.id)).type, 'operation.succeeded', 'team made');

t.test('by default: a complete pre-upgrade backup (at the old version), then the upgrade', async (t) => {
  const e = await upgrade(V2);
  t.equal(e.state, 'succeeded', JSON.stringify(e.error ?? {}));
  t.match(e.backup, { id: /^\d{8}T\d{6}Z-[0-9a-f]{6}$/ }, 'the entry names its backup');
  const b = (await backups()).find((x) => x.id === e.backup?.id);
  t.match(b, { reason: 'pre-upgrade', state: 'complete', appVersion: V1 }, 'taken before, at the version it ran');
  t.equal(await version(), V2);
});

t.test('a failed backup: not upgraded, keeps its version and serves; the entry says why', async (t) => {
  refuseRead = true;
  t.teardown(() => void (refuseRead = false));
  const before = (await backups()).length;
  const e = await upgrade(V3);
  t.equal(e.state, 'failed');
  t.match(e.error, { code: 'BACKUP_FAILED', message: /was not upgraded and keeps/ });
  t.match(e.backup, { error: { code: 'BACKUP_FAILED', message: /injected/ } });
  t.equal(await version(), V2, 'still the version it had, serving');
  t.equal((await p.repo.get(slug))?.phase, 'running');
  const list = await backups();
  t.equal(list.length, before + 1, 'the failed attempt is listed');
  t.match(list[0], { state: 'failed', reason: 'pre-upgrade' });
});

t.test('backup: best-effort goes on and reports the failure; backup: skip takes none', async (t) => {
  refuseRead = true;
  const e = await upgrade(V3, { backup: 'best-effort' });
  refuseRead = false;
  t.equal(e.state, 'succeeded');
  t.match(e.backup, { error: { code: 'BACKUP_FAILED' } }, 'the failure, reported');
  t.equal(await version(), V3);
  const before = (await backups()).length;
  const back = await upgrade(V2, { backup: 'skip' });
  t.equal(back.state, 'succeeded');
  t.equal(back.backup, undefined, 'none taken');
  t.equal((await backups()).length, before);
  const bad = await p.app.inject({ method: 'POST', url: '/api/v1/upgrades', headers: { authorization: `Bearer ${tp.token}` }, payload: { toVersion: V3, tenants: [slug], backup: 'sometimes' } });
  t.equal(bad.statusCode, 400, 'an unknown backup mode is refused');
});
