// Crash safety of backups and restores (issue 15 item 4), with the
// orchestrator as a real process killed with SIGKILL at a real step:
// - mid-backup, while the team's database and storage are frozen for the
//   copy: after a restart the backup is failed (never complete), its files
//   are gone, every container is thawed and the team answers;
// - mid-restore, while the volumes are being replaced: after a restart the
//   restore runs again whole and the team ends fully restored (the backup's
//   items and attachment bytes), healthy.
// The team holds 40 MB of attachments so that each step lasts long enough to
// be killed inside.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { names } from '../../src/names.js';
import { DEFAULT_LOAD, LoadStats, prepareTeam } from '../../src/capacity/load/team-load.js';
import { docker, testSlug } from '../helpers/docker.js';
import { freePort } from '../helpers/nginx.js';
import { kill, startOrchestrator } from '../helpers/orchestrator-process.js';
import { platformEnv, startTestPlatform, storedTenant } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';

const tp = await startTestPlatform('bkcrash');
const apiPort = await freePort();
const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const child of children) child.kill('SIGKILL');
  await tp.close();
});
const env = platformEnv(tp.config, { BERTH_API_PORT: String(apiPort), BERTH_RECONCILE_INTERVAL_MS: '60000', BERTH_SLEEP_INTERVAL_MS: '3600000' });
const api = async (method: string, url: string, body?: object) => {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1${url}`, {
    method, headers: { authorization: `Bearer ${tp.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {})
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
};
const slug = testSlug('bkk');
const backupsColl = tp.platform.db.db.collection<{ _id: string; state: string; error?: { code: string } }>('backups');
const states = async () => Object.fromEntries((await docker('ps', '-a', '--filter', `label=berth.tenant=${slug}`, '--format', '{{.Label "berth.service"}} {{.State}}'))
  .split('\n').filter(Boolean).map((l) => l.split(' ')));
/** Polls the registry often until the team's operation of `kind` is at a step matching `step`. */
const atStep = (kind: string, step: RegExp) => until(async () => {
  const op = (await storedTenant(tp, slug))?.operation;
  return op?.kind === kind && step.test(op.step) ? op.step : undefined;
}, 120_000, `${slug}'s ${kind} to reach ${step}`, 10);
const settled = () => until(async () => {
  const doc = await storedTenant(tp, slug);
  return doc && !doc.operation ? doc : undefined;
}, 180_000, 'the resumed operation to end');

const created = await tp.platform.tenants.create({ slug, ownerEmail: 'owner@crash.example' });
// No assertion at the top level before the awaits below: tap would end the root test there and tear the platform down.
if ((await operationEnd(tp.platform.events, created.operation.id)).type !== 'operation.succeeded') throw new Error('the team was not made');
const edge = { port: tp.config.nginx.httpPort, baseDomain: tp.config.baseDomain };
const team = await prepareTeam(edge, { slug, setupUrl: (await tp.platform.tenantViews.ownerSetupUrl(slug))! }, { ...DEFAULT_LOAD, members: 1 }, new LoadStats());
t.teardown(() => team.http.close());
const member = team.members[0]!;
const headers = { cookie: member.cookie, 'x-csrf-token': member.csrf, accept: 'application/json' };
const title = `crash-proof-${randomBytes(4).toString('hex')}`;
const item = await team.http.request('POST', '/api/items', { ...headers, 'content-type': 'application/json' }, JSON.stringify({ title, status: 'todo' }));
if (item.status !== 201) throw new Error(`item: ${item.status} ${item.body.toString().replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").slice(0, 400)}`);
const itemId = (JSON.parse(item.body.toString()) as { item: { id: string } }).item.id;
// Two of 20 MB (an attachment may be 25 MB at most); the first is compared.
const big = randomBytes(20 * 1024 * 1024);
const up = await team.http.request('POST', `/api/items/${itemId}/attachments?name=big.bin`, { ...headers, 'content-type': 'application/octet-stream' }, big, 120_000);
if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body.toString().slice(0, 200)}`);
const second = await team.http.request('POST', `/api/items/${itemId}/attachments?name=more.bin`, { ...headers, 'content-type': 'application/octet-stream' }, randomBytes(20 * 1024 * 1024), 120_000);
if (second.status !== 201) throw new Error(`upload: ${second.status} ${second.body.toString().slice(0, 200)}`);
const attachment = (JSON.parse(up.body.toString()) as { attachment: { id: string } }).attachment.id;
const board = async () => {
  const items = await throughNginx(tp, slug, 'GET', '/api/items', headers);
  const file = await throughNginx(tp, slug, 'GET', `/api/items/${itemId}/attachments/${attachment}`, { cookie: member.cookie }, undefined, 60_000);
  return { status: items.status, titles: items.status === 200 ? (JSON.parse(items.body.toString()) as { items: { title: string }[] }).items.map((i) => i.title).sort() : [], same: file.status === 200 && file.body.equals(big) };
};

t.test('killed mid-backup, the database and storage frozen: failed, files gone, thawed, serving', async (t) => {
  const child = await startOrchestrator(env, apiPort, children);
  const res = await api('POST', `/tenants/${slug}/backups`);
  t.equal(res.status, 202, JSON.stringify(res.body));
  const id = (res.body.backup as { id: string }).id;
  const step = await atStep('backup', /storage-data:reading/);
  await kill(child, 'SIGKILL');
  const frozen = await states();
  t.comment(`killed at ${step}: ${JSON.stringify(frozen)}`);
  t.equal(frozen.storage, 'paused', 'the process died with the storage frozen');
  t.equal((await backupsColl.findOne({ _id: `${slug}/${id}` }))?.state, 'running', 'left running, not complete');

  const again = await startOrchestrator(env, apiPort, children);
  const doc = await settled();
  t.equal(doc.phase, 'running', `ended running (${doc.lastError?.message ?? 'no error'})`);
  t.same(await states(), { app: 'running', db: 'running', storage: 'running' }, 'every container thawed');
  const record = await backupsColl.findOne({ _id: `${slug}/${id}` });
  t.match(record, { state: 'failed', error: { code: 'BACKUP_INTERRUPTED' } }, 'failed, never complete');
  const files = await readdir(path.join(tp.config.backups.dir, slug, id)).catch((): string[] => []);
  t.notOk(files.includes('manifest.json'), `no manifest (left: ${files.join(', ') || 'nothing'})`);
  t.same(files, [], 'its files removed');
  const seen = await board();
  t.equal(seen.status, 200, 'the team answers');
  t.ok(seen.same, 'and its attachment is whole');
  await kill(again, 'SIGKILL');
});

t.test('killed mid-restore, its volumes half replaced: the restart finishes the restore, the team fully restored', async (t) => {
  const child = await startOrchestrator(env, apiPort, children);
  const taken = await api('POST', `/tenants/${slug}/backups`);
  const id = (taken.body.backup as { id: string }).id;
  await until(async () => (await backupsColl.findOne({ _id: `${slug}/${id}` }))?.state === 'complete', 120_000, 'the backup to complete');
  await settled();
  // Changed after the backup: the restore must take this away.
  const later = await team.http.request('POST', '/api/items', { ...headers, 'content-type': 'application/json' }, JSON.stringify({ title: 'made-after', status: 'todo' }));
  t.equal(later.status, 201);

  const res = await api('POST', `/tenants/${slug}/backups/${id}/restore`, { confirm: slug });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const step = await atStep('restore', /storage-data:restoring/);
  await kill(child, 'SIGKILL');
  t.comment(`killed at ${step}: ${JSON.stringify(await states())}`);
  t.equal((await storedTenant(tp, slug))?.phase, 'restoring', 'the process died mid-restore');
  const helper = await docker('ps', '-a', '--filter', `name=${names.restoreHelper(slug, 'storage-data')}`, '--format', '{{.Names}}');
  t.comment(`restore helper left: ${helper || 'none'}`);

  const again = await startOrchestrator(env, apiPort, children);
  const doc = await settled();
  t.equal(doc.phase, 'running', `ended running (${doc.lastError?.message ?? 'no error'})`);
  const seen = await board();
  t.same(seen.titles, [title], 'exactly the backup\'s items');
  t.ok(seen.same, 'the attachment, byte for byte');
  t.equal(await docker('ps', '-a', '--filter', `name=${names.restoreHelper(slug, 'storage-data')}`, '--format', '{{.Names}}'), '', 'no helper left');
  await kill(again, 'SIGKILL');
});
