// The route table file is written behind route changes (route-manager.ts):
// a burst of changes shares a few whole-table writes, the file catches up
// without anyone waiting for it, a failed write is logged, counted and done
// again, and a process killed with SIGKILL in the middle of its writes leaves
// a file that is whole (the previous table or the new one, never half), which
// a restarted nginx loads without refusing it. Real nginx, real processes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.js';
import { startMaster } from '../../src/proxy/nginx-control.js';
import { control } from '../../src/proxy/route-control.js';
import { parseTable } from '../../src/proxy/route-entry.js';
import { RouteTableFile } from '../../src/proxy/route-table-file.js';
import { NGINX_BIN, request, startNginx, startUpstream, until } from './fixtures/nginx.js';

const DOMAIN = 'berth.test';
const host = (slug: string) => `${slug}.${DOMAIN}`;
const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/route-writer.ts');

t.test('a burst of changes shares a few table writes; the file catches up with nobody waiting', async (t) => {
  const nginx = await startNginx(t);
  const routes = nginx.routes({ baseDomain: DOMAIN });
  await routes.init();
  const slugs = Array.from({ length: 300 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
  await Promise.all(slugs.map((slug, i) => routes.setRoute(slug, { kind: 'up', port: 20_000 + i })));
  const nginxHolds = (await control(nginx.controlSocket, 'GET', '/entries', undefined, 5000)).body.split('\n').filter(Boolean).length;
  t.equal(nginxHolds, 300, 'nginx serves every change once setRoute resolved');
  await until(async () => {
    const text = await readFile(nginx.tableFile, 'utf8').catch(() => '');
    return text !== '' && parseTable(text).length === 300;
  }, 10_000, 'the table file to hold all 300 entries without a flush');
  const { writes, changes } = routes.stats();
  t.equal(changes, 300);
  t.ok(writes >= 1 && writes < 300, `${changes} changes shared ${writes} table writes`);
  // The file can hold all 300 while one more write (of the same 300) is still
  // due: the first flush settles it; a second has nothing new to write.
  await routes.flush();
  const settled = routes.stats().writes;
  t.ok(settled - writes <= 1, `at most the one write that was due (${settled - writes})`);
  await routes.flush();
  t.equal(routes.stats().writes, settled, 'flush with nothing new writes nothing');
});

t.test('a failed table write is logged and counted, flush says so, and the next change writes again', async (t) => {
  const nginx = await startNginx(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-table-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const blocker = path.join(dir, 'control');
  const errors: unknown[] = [];
  const log = { ...silentLogger, error: (o: unknown, m?: string) => void errors.push([o, m]) } as typeof silentLogger;
  const routes = nginx.routes({ tableFile: path.join(blocker, 'routes.table'), baseDomain: DOMAIN, log });
  await routes.init();
  // Then the table's directory becomes a plain file: its mkdir fails (EEXIST), as a full or read-only disk would fail a write.
  await writeFile(blocker, 'not a directory');
  const app = await startUpstream(t, 'team');
  await routes.setRoute('alpha', { kind: 'up', port: app.port });
  t.equal((await request(nginx.port, host('alpha'))).status, 200, 'nginx serves the change all the same');
  await t.rejects(routes.flush(), { code: 'EEXIST' }, 'flush names the failure');
  t.ok(routes.stats().writeFailures >= 1, `counted (${routes.stats().writeFailures})`);
  t.match(errors[0], [{ err: /EEXIST/, file: /routes\.table$/ }, /route table file not written/], 'logged, naming the file');

  await rm(blocker);
  await routes.setRoute('bravo', { kind: 'down', state: 'stopped' });
  await routes.flush();
  t.same(parseTable(await readFile(path.join(blocker, 'routes.table'), 'utf8')).map((l) => l.split(' ')[1]), ['alpha', 'bravo'], 'the next write holds the failed change and the new one');
});

t.test('SIGKILL in the middle of table writes leaves a whole table, which nginx loads at start', async (t) => {
  const nginx = await startNginx(t);
  const app = await startUpstream(t, 'team');
  const KILLS = 6;
  let midWrite = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', WRITER, nginx.controlSocket, nginx.tableFile, DOMAIN, '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    t.teardown(() => void child.kill('SIGKILL'));
    await until(() => out.includes('writing') || child.exitCode !== null, 120_000, `writer ${kill} to be writing`);
    t.equal(child.exitCode, null, `writer ${kill} runs: ${out.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20 + kill * 37)); // another moment of the write cycle each time
    child.kill('SIGKILL');
    await exited;
    if (await stat(`${nginx.tableFile}.tmp`).then(() => true, () => false)) midWrite++;

    const loaded = await new RouteTableFile(nginx.tableFile).load();
    t.equal(loaded.refused, undefined, `kill ${kill}: the table file is whole`);
    t.equal(loaded.source, nginx.tableFile, `kill ${kill}: the current file, not its last good copy`);
    t.equal(loaded.lines.length, 5000, `kill ${kill}: every entry`);
  }
  t.ok(midWrite >= 1, `${midWrite} of ${KILLS} kills came while a write was under way (a temporary file was left)`);

  // nginx started afresh loads that file: no refusal, every entry, and an entry routes.
  await nginx.stop();
  const routes = nginx.routes({ baseDomain: DOMAIN });
  await routes.init();
  const started = await startMaster({ bin: NGINX_BIN, prefix: nginx.prefix, confFile: nginx.confFile });
  t.ok(started.ok, started.output);
  const held = (await control(nginx.controlSocket, 'GET', '/entries', undefined, 10_000)).body.split('\n').filter(Boolean).length;
  t.equal(held, 5000, 'nginx loaded every entry at start');
  const log = await readFile(path.join(nginx.prefix, 'logs/error.log'), 'utf8');
  t.notMatch(log, /refused \(corrupt\)/, 'nginx refused no table');
  await routes.setRoute('crash-00000', { kind: 'up', port: app.port });
  t.equal((await request(nginx.port, host('crash-00000'))).status, 200, 'and routes change through it');
});
