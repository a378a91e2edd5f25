// Backups through the API and restores on real parts (issue 15 items 2 and
// 3): a real team with board items and an attachment is backed up on demand,
// changed, previewed, restored over itself (its data back as it was, the
// pre-restore backup kept as the way back), cloned into a new team under a
// new slug (its database file and bucket renamed), and, once deleted, made
// again from its backup. Each restored team is healthy and answers through
// nginx with exactly the backup's items and attachment bytes. Bad requests
// are refused with what to do, and change nothing.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { throughNginx } from '../helpers/through-nginx.js';
import { operationEnd } from '../helpers/wait.js';
import { DEFAULT_LOAD, LoadStats, prepareTeam } from '../../src/capacity/load/team-load.js';

const slug = testSlug('rs');
const clone = testSlug('rsc');
const tp = await startTestPlatform('restore');
const p = tp.platform;
t.teardown(() => tp.close());
const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  p.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${tp.token}` }, ...(payload ? { payload } : {}) });
const ended = async (id: string) => {
  const end = await operationEnd(p.events, id);
  return `${end.type}${end.type === 'operation.failed' ? ` ${JSON.stringify(end.data)}` : ''}`;
};

const made = await p.tenants.create({ slug, ownerEmail: 'owner@restore.example' });
if ((await operationEnd(p.events, made.operation.id)).type !== 'operation.succeeded') throw new Error('the team was not made');
const edge = { port: tp.config.nginx.httpPort, baseDomain: tp.config.baseDomain };
const team = await prepareTeam(edge, { slug, setupUrl: (await p.tenantViews.ownerSetupUrl(slug))! }, { ...DEFAULT_LOAD, members: 1 }, new LoadStats());
t.teardown(() => team.http.close());
const member = team.members[0]!;
const headers = { cookie: member.cookie, 'x-csrf-token': member.csrf, accept: 'application/json' };
const titles = [`kept-${randomBytes(4).toString('hex')}`, `kept-${randomBytes(4).toString('hex')}`];
const ids: string[] = [];
for (const title of titles) {
  const a = await team.http.request('POST', '/api/items', { ...headers, 'content-type': 'application/json' }, JSON.stringify({ title, status: 'todo' }));
  if (a.status !== 201) throw new Error(`item: ${a.status} ${a.body}`);
  ids.push((JSON.parse(a.body.toString()) as { item: { id: string } }).item.id);
}
const file = randomBytes(200 * 1024);
const up = await team.http.request('POST', `/api/items/${ids[0]}/attachments?name=proof.bin`, { ...headers, 'content-type': 'application/octet-stream' }, file);
if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body}`);
const attachment = (JSON.parse(up.body.toString()) as { attachment: { id: string } }).attachment.id;

/** The board as a member of `team` sees it through nginx: titles, and the attachment's bytes. */
async function board(of: string): Promise<{ titles: string[]; file?: Buffer }> {
  const items = await throughNginx(tp, of, 'GET', '/api/items', headers);
  if (items.status !== 200) throw new Error(`${of} items: ${items.status} ${items.body.toString().slice(0, 200)}`);
  const list = (JSON.parse(items.body.toString()) as { items: { id: string; title: string }[] }).items;
  const got = await throughNginx(tp, of, 'GET', `/api/items/${ids[0]}/attachments/${attachment}`, { cookie: member.cookie });
  return { titles: list.map((i) => i.title).sort(), ...(got.status === 200 ? { file: got.body } : {}) };
}

let backupId = '';

t.test('a backup on demand: 202 with its operation, then complete in the list and the overview, with its figures', async (t) => {
  const res = await api('POST', `/tenants/${slug}/backups`);
  t.equal(res.statusCode, 202, res.body);
  const body = res.json() as { backup: { id: string; state: string; reason: string }; operation: { id: string } };
  t.match(body.backup, { state: 'running', reason: 'manual', tenant: slug });
  t.equal(await ended(body.operation.id), 'operation.succeeded');
  backupId = body.backup.id;
  const one = (await api('GET', `/tenants/${slug}/backups/${backupId}`)).json() as Record<string, unknown>;
  t.match(one, { state: 'complete', appVersion: tp.config.defaultAppVersion, plan: 'starter', target: `dir:${tp.config.backups.dir}` });
  t.ok((one.bytes as number) > file.length, `${one.bytes} bytes sealed`);
  t.ok((one.pauseMs as number) > 0, `paused ${one.pauseMs} ms`);
  const list = (await api('GET', `/tenants/${slug}/backups`)).json() as { backups: { id: string }[] };
  t.same(list.backups.map((b) => b.id), [backupId]);
  const overview = (await api('GET', '/backups')).json() as { teams: { tenant: string; count: number; overdue: boolean; lastSuccessAt?: string; every?: string }[] };
  t.match(overview.teams.find((x) => x.tenant === slug), { count: 1, overdue: false, every: '24h', lastSuccessAt: String });
  const files = await readdir(path.join(tp.config.backups.dir, slug, backupId));
  t.same(files.sort(), ['db-data.tar.sealed', 'manifest.json', 'storage-data.tar.sealed']);
  const metrics = (await p.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, new RegExp(`berth_backup_last_success_timestamp_seconds\\{tenant="${slug}"\\} \\d+`), 'Prometheus: the last success per team');
  t.match(metrics, /berth_backups_total\{reason="manual",result="ok"\} [1-9]/, 'Prometheus: backups by reason and result');
  t.match(metrics, /berth_backup_pause_seconds_count/, 'Prometheus: the pauses');
  t.equal((await api('POST', `/tenants/${slug}/backups`)).statusCode, 202, 'a second, for the delete below');
  await p.operations.settled();
});

t.test('restore over the team: preview, refused without confirm, then its data back as it was and the way back kept', async (t) => {
  const added = await team.http.request('POST', '/api/items', { ...headers, 'content-type': 'application/json' }, JSON.stringify({ title: 'after-the-backup', status: 'todo' }));
  t.equal(added.status, 201);
  t.same((await board(slug)).titles, [...titles, 'after-the-backup'].sort(), 'changed after the backup');

  const preview = await api('GET', `/tenants/${slug}/backups/${backupId}/preview`);
  t.equal(preview.statusCode, 200, preview.body);
  const pv = preview.json() as { newTeam: boolean; changes: string[]; replaces: { exists: boolean; phase: string }; lostSince: string };
  t.match(pv, { newTeam: false, replaces: { exists: true, phase: 'running' }, lostSince: String });
  t.match(pv.changes.join('\n'), /pre-restore[\s\S]*replace its database and files/);

  const refused = await api('POST', `/tenants/${slug}/backups/${backupId}/restore`, {});
  t.equal(refused.statusCode, 400);
  t.match(refused.json(), { error: { code: 'CONFIRMATION_REQUIRED', message: new RegExp(`confirm=${slug}`) } });
  t.same((await board(slug)).titles, [...titles, 'after-the-backup'].sort(), 'nothing changed by the refusal');

  const res = await api('POST', `/tenants/${slug}/backups/${backupId}/restore`, { confirm: slug });
  t.equal(res.statusCode, 202, res.body);
  t.equal(await ended((res.json() as { operation: { id: string } }).operation.id), 'operation.succeeded');
  const doc = await p.repo.get(slug);
  t.equal(doc?.phase, 'running');
  const after = await board(slug);
  t.same(after.titles, titles.sort(), 'the items of the backup, and not the one made after');
  t.ok(after.file?.equals(file), 'the attachment, byte for byte');
  const list = (await api('GET', `/tenants/${slug}/backups`)).json() as { backups: { reason: string; state: string }[] };
  t.match(list.backups.find((b) => b.reason === 'pre-restore'), { state: 'complete' }, 'the pre-restore backup: the way back');
});

t.test('a clone into a new slug: its own team, the same data, the source untouched', async (t) => {
  const preview = (await api('GET', `/tenants/${slug}/backups/${backupId}/preview?into=${clone}`)).json() as { newTeam: boolean; changes: string[] };
  t.equal(preview.newTeam, true);
  t.match(preview.changes.join('\n'), new RegExp(`renamed from ${slug} to ${clone}`));
  const res = await api('POST', `/tenants/${slug}/backups/${backupId}/restore`, { into: clone });
  t.equal(res.statusCode, 202, res.body);
  t.equal(await ended((res.json() as { operation: { id: string } }).operation.id), 'operation.succeeded');
  t.teardown(async () => {
    const del = await p.tenants.delete(clone, { deleteData: true, confirm: clone });
    await operationEnd(p.events, del.operation.id);
  });
  t.equal((await p.repo.get(clone))?.phase, 'running');
  const copy = await board(clone);
  t.same(copy.titles, titles.sort(), 'the items, in the clone');
  t.ok(copy.file?.equals(file), 'the attachment, in the clone\'s own bucket');
  t.same((await board(slug)).titles, titles.sort(), 'the source as it was');
  const again = await api('POST', `/tenants/${slug}/backups/${backupId}/restore`, { into: clone });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { error: { code: 'TENANT_EXISTS', message: /new team/ } });
});

t.test('bad requests: refused, each with what was wrong, nothing made', async (t) => {
  const cases: Array<[string, 'GET' | 'POST' | 'DELETE', string, object | undefined, number, string]> = [
    ['an id that is not one', 'GET', `/tenants/${slug}/backups/..%2f..%2fetc`, undefined, 400, 'VALIDATION_FAILED'],
    ['an unknown id', 'GET', `/tenants/${slug}/backups/20200101T000000Z-abcdef`, undefined, 404, 'BACKUP_NOT_FOUND'],
    ['a 1 MB slug', 'GET', `/tenants/${'a'.repeat(1 << 20)}/backups`, undefined, 414, ''],
    ['a clone into a reserved slug', 'POST', `/tenants/${slug}/backups/${backupId}/restore`, { into: 'admin' }, 400, 'SLUG_RESERVED'],
    ['a clone into a slug with a separator', 'POST', `/tenants/${slug}/backups/${backupId}/restore`, { into: `${slug}.db` }, 400, 'VALIDATION_FAILED'],
    ['an unknown field', 'POST', `/tenants/${slug}/backups/${backupId}/restore`, { into: clone, path: '/etc' }, 400, 'VALIDATION_FAILED'],
    ['a backup of a team that has none', 'POST', `/tenants/nobody-here/backups/${backupId}/restore`, { confirm: 'nobody-here' }, 404, 'BACKUP_NOT_FOUND'],
    ['a backup of a missing team', 'POST', '/tenants/nobody-here/backups', undefined, 404, 'TENANT_NOT_FOUND']
  ];
  for (const [what, method, url, payload, status, code] of cases) {
    const res = await api(method, url, payload);
    t.equal(res.statusCode, status, `${what}: ${res.body.slice(0, 160)}`);
    if (code) t.equal((res.json() as { error: { code: string } }).error.code, code, what);
  }
  t.equal(await p.repo.get('admin'), null, 'no team made');
});

t.test('delete a backup: its files and its record go; the others stay', async (t) => {
  const list = (await api('GET', `/tenants/${slug}/backups`)).json() as { backups: { id: string; reason: string }[] };
  const victim = list.backups.find((b) => b.reason === 'manual' && b.id !== backupId)!;
  const res = await api('DELETE', `/tenants/${slug}/backups/${victim.id}`);
  t.equal(res.statusCode, 204, res.body);
  t.equal((await api('GET', `/tenants/${slug}/backups/${victim.id}`)).statusCode, 404);
  t.notOk((await readdir(path.join(tp.config.backups.dir, slug))).includes(victim.id), 'its files are gone');
  t.equal((await api('GET', `/tenants/${slug}/backups/${backupId}`)).statusCode, 200, 'the others stay');
});

t.test('a deleted team, made again from its backup under its own slug', async (t) => {
  const del = await p.tenants.delete(slug, { deleteData: true, confirm: slug });
  t.equal(await ended(del.operation.id), 'operation.succeeded');
  const overview = (await api('GET', '/backups')).json() as { teams: { tenant: string; exists: boolean; count: number }[] };
  t.match(overview.teams.find((x) => x.tenant === slug), { exists: false }, 'its backups outlive it');
  const res = await api('POST', `/tenants/${slug}/backups/${backupId}/restore`, {});
  t.equal(res.statusCode, 202, res.body);
  t.equal(await ended((res.json() as { operation: { id: string } }).operation.id), 'operation.succeeded');
  t.teardown(async () => {
    const gone = await p.tenants.delete(slug, { deleteData: true, confirm: slug });
    await operationEnd(p.events, gone.operation.id);
  });
  const back = await board(slug);
  t.same(back.titles, titles.sort(), 'its items');
  t.ok(back.file?.equals(file), 'its attachment');
});
