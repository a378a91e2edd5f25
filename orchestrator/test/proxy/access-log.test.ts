// Berth's nginx (its main config, a real nginx, a routed upstream) never
// writes a one-time link's token to its access log: /welcome/<token> is
// logged as /welcome/[redacted], in the request line and in the Referer,
// while the rest of the line (method, the path after the token, the query,
// status) stays for operators to read.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { request, startNginx, startUpstream, until } from './fixtures/nginx.js';

t.test('one-time link tokens are blanked in the access log', async (t) => {
  const nginx = await startNginx(t);
  const app = await startUpstream(t, 'team');
  const routes = nginx.routes();
  await routes.setRoute('linked', { kind: 'up', port: app.port });
  const host = 'linked.berth.test';
  const tokens = Array.from({ length: 3 }, () => randomBytes(32).toString('base64url'));
  const answers = [
    await request(nginx.port, host, { path: `/welcome/${tokens[0]}` }),
    await request(nginx.port, host, { path: `/welcome/${tokens[1]}/__data.json?x-sveltekit-invalidated=01` }),
    await request(nginx.port, host, { path: '/_app/immutable/start.js', headers: { referer: `http://${host}/welcome/${tokens[2]}` } }),
    await request(nginx.port, 'nobody.berth.test', { path: `/welcome/${tokens[0]}` })
  ];
  t.same(answers.map((a) => a.status), [200, 200, 200, 404], 'the link still reaches the app (and an unknown host its 404)');
  const log = path.join(nginx.prefix, 'logs/access.log');
  const text = await until(async () => {
    const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return lines.length >= 4;
  }, 10_000, 'four access log lines').then(() => readFile(log, 'utf8'));
  for (const token of tokens) t.notOk(text.includes(token), 'no token in the access log');
  t.match(text, /"GET \/welcome\/\[redacted\] HTTP\/1\.1" 200 /, 'the link\'s request line, token blanked');
  t.match(text, /"GET \/welcome\/\[redacted\]\/__data\.json\?x-sveltekit-invalidated=01 HTTP\/1\.1" 200 /, 'what follows the token stays');
  t.match(text, /"GET \/_app\/immutable\/start\.js HTTP\/1\.1" 200 \d+ "http:\/\/linked\.berth\.test\/welcome\/\[redacted\]"/, 'a Referer carrying a link is blanked too');
  t.match(text, /^127\.0\.0\.1 - - \[/m, 'the rest is nginx\'s combined format');
});
