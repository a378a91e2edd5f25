// The team-load scenario (bench/scenarios/team-load.ts) works against a real
// team through a real nginx: the owner's setup link and the invitations give
// every member a session; every kind of action is answered as expected, with
// no error; each change reaches every other member's live stream. A short,
// fast-paced run: the bench runs it at people's pace, for minutes.
import t from 'tap';
import { docker, testSlug } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { DEFAULT_LOAD, LoadStats, prepareTeam, runTeam, type Action } from '../../../bench/scenarios/team-load.js';

const tp = await startTestPlatform('teamload');
t.teardown(() => tp.close());
const p = tp.platform;
const slug = testSlug('tload');

t.test('three members, every action, through nginx: no error, and every change reaches the others live', async (t) => {
  const made = await p.tenants.create({ slug, ownerEmail: 'owner@tload.example' });
  t.equal((await operationEnd(p.events, made.operation.id)).type, 'operation.succeeded');
  const edge = { port: tp.config.nginx.httpPort, baseDomain: tp.config.baseDomain };
  const stats = new LoadStats();
  const options = { ...DEFAULT_LOAD, members: 3, thinkMs: 100, attachmentBytes: 32 * 1024 };
  const prepared = await prepareTeam(edge, { slug, setupUrl: (await p.tenantViews.ownerSetupUrl(slug))! }, options, stats);
  t.equal(prepared.members.length, 3, 'the owner and two invited members, each with a session');
  t.equal(new Set(prepared.members.map((m) => m.cookie)).size, 3, 'three sessions');
  await runTeam(edge, prepared, options, stats, performance.now() + 6000);
  if (stats.errorCount() > 0) t.comment((await docker('logs', '--tail', '60', p.stacks.specFor((await p.repo.get(slug))!).services.find((s) => s.name === "app")!.container.name).catch((e: Error) => e.message)));
  t.same([...stats.errors], [], 'no error');
  const kinds: Action[] = ['reload', 'create', 'move', 'edit', 'upload', 'download'];
  for (const kind of kinds) t.ok((stats.latencies.get(kind)?.length ?? 0) > 0, `${kind}: answered`);
  t.ok((stats.latencies.get('live')?.length ?? 0) > 0, 'changes reached the other members\' streams');
  t.ok(stats.requests().length > 50, `${stats.requests().length} requests in 6 s at a 100 ms think time`);
  t.equal((await p.repo.get(slug))?.phase, 'running', 'the team is still running');
});

t.test('a hostile or broken setup link is refused, not followed', async (t) => {
  const edge = { port: tp.config.nginx.httpPort, baseDomain: tp.config.baseDomain };
  const stats = new LoadStats();
  await t.rejects(prepareTeam(edge, { slug, setupUrl: `http://${slug}.${tp.config.baseDomain}/welcome/${'x'.repeat(43)}` }, { ...DEFAULT_LOAD, members: 1 }, stats), /accepting \/welcome\/xxxx/);
});
