// A plan's storage quota end to end on the real engine: two teams on a plan
// with a 2 MiB quota, each with its own stack, reached through Berth's nginx.
// One fills its storage and gets the app's 413 naming use and quota; its
// files still download; the other team still uploads; the API shows each
// team's stored bytes (measured in its storage container) against the quota,
// measured again only once the figure is older than the configured age.
import t from 'tap';
import { names } from '../../src/names.js';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { throughNginx, type Answer } from '../helpers/through-nginx.js';
import { operationEnd, until } from '../helpers/wait.js';
import { tinyQuotaTemplates, type TestTemplates } from './fixtures/templates.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const MAX_AGE_MS = 5000;
let templates: TestTemplates;
let tp: TestPlatform;
const a = testSlug('quotaa');
const b = testSlug('quotab');

interface Team { slug: string; cookie: string; csrf: string; item: string }

t.before(async () => {
  templates = await tinyQuotaTemplates('2m');
  tp = await startTestPlatform('quota', { templatesDir: templates.dir, storage: { maxAgeMs: MAX_AGE_MS } });
  await Promise.all([a, b].map(async (slug) => {
    const { operation } = await tp.platform.tenants.create({ slug, plan: 'tiny', ownerEmail: `owner@${slug}.test` });
    const end = await operationEnd(tp.platform.events, operation.id);
    if (end.type !== 'operation.succeeded') throw new Error(`setup: ${slug} failed: ${JSON.stringify(end.data)}`);
  }));
});

t.teardown(async () => {
  await tp?.close();
  await templates?.remove();
});

/** One request to a team's address through the test's nginx. */
function through(slug: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Answer> {
  return throughNginx(tp, slug, method, path, headers, body);
}

/** The owner chooses a password through the one-time setup link (as a browser would), then makes an item. */
async function ownerOf(slug: string): Promise<Team> {
  const setup = new URL((await tp.platform.tenantViews.ownerSetupUrl(slug))!);
  const form = new URLSearchParams({ name: 'Owner', password: 'owner password 1', confirm: 'owner password 1' }).toString();
  const res = await through(slug, 'POST', setup.pathname, { 'content-type': 'application/x-www-form-urlencoded', origin: setup.origin, accept: 'text/html', 'content-length': String(form.length) }, form);
  const cookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('berth_session='))?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`${slug}: setup answered ${res.status} ${res.body.toString().slice(0, 300)}`);
  const { csrf } = JSON.parse((await through(slug, 'GET', '/api/session', { cookie })).body.toString()) as { csrf: string };
  const itemBody = JSON.stringify({ title: 'Files' });
  const item = await through(slug, 'POST', '/api/items', { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json', 'content-length': String(itemBody.length) }, itemBody);
  return { slug, cookie, csrf, item: (JSON.parse(item.body.toString()) as { item: { id: string } }).item.id };
}

function upload(team: Team, name: string, bytes: Buffer): Promise<Answer> {
  return through(team.slug, 'POST', `/api/items/${team.item}/attachments?name=${name}`, {
    cookie: team.cookie, 'x-csrf-token': team.csrf, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length)
  }, bytes);
}

const json = (answer: Answer) => JSON.parse(answer.body.toString()) as Record<string, any>;
async function apiGet(path: string): Promise<Record<string, any>> {
  const res = await tp.platform.app.inject({ method: 'GET', url: `/api/v1${path}`, headers: { authorization: `Bearer ${tp.token}` } });
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body}`);
  return res.json();
}

const tenantView = (slug: string) => apiGet(`/tenants/${slug}`);

let teamA: Team;
let teamB: Team;
const stored: { id: string; bytes: Buffer }[] = [];

t.test('a team fills its quota; the upload that would cross it gets 413 through nginx, naming use and quota', async (t) => {
  [teamA, teamB] = await Promise.all([ownerOf(a), ownerOf(b)]);
  for (const [i, size] of [1 * MiB, 1 * MiB].entries()) {
    const bytes = Buffer.alloc(size, i + 1);
    const res = await upload(teamA, `file-${i}.bin`, bytes);
    t.equal(res.status, 201, res.status === 201 ? `file ${i} stored` : res.body.toString().slice(0, 300));
    stored.push({ id: (json(res) as { attachment: { id: string } }).attachment.id, bytes });
  }
  const refused = await upload(teamA, 'one-more.bin', Buffer.alloc(512 * KiB, 9));
  t.equal(refused.status, 413);
  t.equal(refused.headers['x-berth-route'], a, 'answered by the team\'s app through nginx');
  t.same(json(refused), { error: { code: 'STORAGE_FULL', message: "your team's storage is full: 2.0 MB of 2.0 MB used; this file is 512.0 KB. Delete files to make room." } });
  const list = json(await through(a, 'GET', `/api/items/${teamA.item}/attachments`, { cookie: teamA.cookie }));
  t.equal(list.attachments.length, 2, 'nothing of it was kept');
  for (const file of stored) {
    const down = await through(a, 'GET', `/api/items/${teamA.item}/attachments/${file.id}`, { cookie: teamA.cookie });
    t.equal(down.status, 200);
    t.ok(down.body.equals(file.bytes), 'an earlier file still downloads whole');
  }
});

t.test('another team on the same platform still uploads, and the platform still answers', async (t) => {
  const res = await upload(teamB, 'b.bin', Buffer.alloc(1 * MiB, 7));
  t.equal(res.status, 201, res.status === 201 ? 'its upload is stored' : res.body.toString().slice(0, 300));
  t.equal((await through(b, 'GET', '/healthz')).status, 200);
  const { tenants } = await apiGet('/tenants');
  t.same(tenants.map((x: { phase: string }) => x.phase), ['running', 'running'], 'both teams run');
});

t.test('the API shows each team\'s stored bytes against its quota, measured in its storage container', async (t) => {
  const full = await until(async () => {
    const view = await tenantView(a);
    return view.storage?.usedBytes >= 2 * MiB ? view : undefined;
  }, 30_000, 'A to be measured full');
  t.match(full.storage, { quotaBytes: 2 * MiB, checkedAt: String });
  t.ok(full.storage.usedBytes < 2 * MiB + 64 * KiB, `A: ${full.storage.usedBytes} bytes: its two files and MinIO's few bytes each`);
  t.notOk(full.storage.error, 'no error');
  const other = await until(async () => {
    const view = await tenantView(b);
    return view.storage?.usedBytes >= 1 * MiB ? view : undefined;
  }, 30_000, 'B to be measured');
  t.ok(other.storage.usedBytes < 1 * MiB + 64 * KiB, `B: ${other.storage.usedBytes} bytes: only its own file`);

  // Within the age limit a read shows the same figure; lists never measure.
  const again = await tenantView(a);
  t.equal(again.storage.checkedAt, full.storage.checkedAt, 'read again at once: the cached figure');
  const listed = (await apiGet('/tenants')).tenants.find((x: { slug: string }) => x.slug === a);
  t.same(listed.storage, full.storage, 'the list shows the last figure');

  const history = await tp.platform.events.history({ tenant: a }, 200);
  t.ok(history.some((e) => e.type === 'operation.step' && e.data?.step === 'storage-limit'), 'the store\'s own limit was set at bring-up');
  t.notOk(history.some((e) => e.type === 'storage.limit_failed'), 'and did not fail');
});

t.test('the app was told its plan\'s quota', async (t) => {
  const env = await docker('inspect', names.container(a, 'app'), '--format', '{{range .Config.Env}}{{println .}}{{end}}');
  t.match(env, /^STORAGE_QUOTA_BYTES=2097152$/m);
});

t.test('a store that does not answer: the error is shown beside the last good figure, and the team keeps running', async (t) => {
  const { storage: use, stacks, repo } = tp.platform;
  const storage = stacks.specFor((await repo.get(a))!).storage!;
  const before = use.cached(a, storage.quotaBytes);
  await use.measure(a, { ...storage, usage: ['berth-probe', 'du', '/no-such-dir'] });
  const failed = use.cached(a, storage.quotaBytes);
  t.match(failed.error, /^storage use not measured: berth-probe du exited 1: berth-probe: stat \/no-such-dir: no such file or directory/);
  t.equal(failed.usedBytes, before.usedBytes, 'the last good figure stays');
  t.equal(failed.checkedAt, before.checkedAt, 'with when it was taken');

  await t.rejects(use.limit(a, { ...storage, limit: ['berth-probe', 'minio-quota', 'http://127.0.0.1:9000', 'no-such-bucket', '1000'] }), { code: 'STORAGE_CHECK_FAILED', message: /set-bucket-quota no-such-bucket: 404/ });
  t.match(use.cached(a, storage.quotaBytes), { usedBytes: Number, error: /^storage use not measured: .*; the store's own limit is not set: .*no-such-bucket/ }, 'both failures are said beside the figure');
  await use.measure(a, storage);
  t.notOk(use.cached(a, storage.quotaBytes).error, 'the next measure sets the limit again, and measures: no error left');
  t.equal((await tenantView(a)).phase, 'running');
});
