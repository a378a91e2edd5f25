// A whole platform for the API fuzz run (scripts/fuzz-api), on the same real
// parts as the integration tests (startTestPlatform), listening on 127.0.0.1.
// It prints one JSON line {url, admin, read, bystanders} on stdout and serves
// until SIGTERM; then it checks what the fuzzer must not have done, tears
// everything down, and exits 0, or 1 naming each violation on stderr.
//
// Tenant stacks here name images that are not on the host: a tenant the fuzzer
// creates is a real create that stops at the image check (IMAGE_MISSING, the
// create rolled back to phase failed) and starts no container, so however many
// tenants the fuzzer makes, the run stays cheap.
//
// Bystanders are objects the fuzz run did not make: the first operator
// (admin@localhost), the admin and read tokens, and a tenant. The fuzzer's
// hook maps their ids away; afterwards they must be exactly as they were.
import { config } from '../helpers/docker.js';
import { startTestPlatform } from '../helpers/platform.js';
import { operationEnd } from '../helpers/wait.js';
import { bystanderChanges, bystanderWrites, scopeViolations, snapshotBystanders } from './fuzz-checks.js';

const BYSTANDER_TENANT = 'bystander';

const tp = await startTestPlatform('fuzz', {
  images: { ...config.images, storage: 'berth-fuzz/absent:0', appRepo: 'berth-fuzz/absent-app' }
});
const { platform } = tp;
const read = await platform.tokens.create({ name: 'fuzz-read', scope: 'read' });
const { operator } = await platform.operators.operators.bootstrap({ email: 'admin@localhost', name: 'First operator' });
await operationEnd(platform.events, (await platform.tenants.create({ slug: BYSTANDER_TENANT })).operation.id);
const before = await snapshotBystanders(platform, operator.id, BYSTANDER_TENANT);

async function finish(): Promise<number> {
  const problems: string[] = [];
  try {
    await platform.tenants.settled();
    problems.push(...(await bystanderChanges(platform, before)));
    problems.push(...(await bystanderWrites(platform, before)));
    const scope = await scopeViolations(platform, read.info.id);
    problems.push(...scope.problems);
    process.stderr.write(`fuzz-platform: ${scope.writes} writes reached a route; ${scope.problems.length} accepted without their scope\n`);
  } catch (err) {
    problems.push(`checking after the run failed: ${(err as Error).stack ?? String(err)}`);
  }
  await tp.close().catch((err: Error) => problems.push(`teardown failed: ${err.message}`));
  for (const p of problems) process.stderr.write(`fuzz-platform: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}

let finishing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (finishing) return;
    finishing = true;
    void finish().then((code) => process.exit(code));
  });
}

const url = await platform.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({
  url,
  admin: tp.token,
  read: read.token,
  bystanders: { operators: [operator.id], tokens: before.tokens.map((t) => t.id), tenants: [BYSTANDER_TENANT] }
})}\n`);
