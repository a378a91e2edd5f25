// Seconds from `docker start` of a tenant stack to the first 200 from its
// /healthz, through the port published on 127.0.0.1. Also the cold create
// (network, volumes, containers) to the first 200. Prints a table; asserts nothing.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, ROOT_DIR } from '../orchestrator/src/config/config.js';
import { httpGet } from '../orchestrator/src/runtime/http-get.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';
import { stackImages } from '../orchestrator/src/stacks/images.js';
import { renderStack } from '../orchestrator/src/stacks/render.js';
import { generateSecrets } from '../orchestrator/src/stacks/secrets.js';
import { downStack, upStack } from '../orchestrator/src/stacks/stack-runner.js';
import { loadTemplate } from '../orchestrator/src/stacks/template-loader.js';

const ROUNDS = 3;
const config = loadConfig();
const runtime = new DockerRuntime(silentLogger, config.dockerSocket);
const slug = `bench-${randomBytes(3).toString('hex')}`;
const platform = `bench-${slug}`;
const loaded = await loadTemplate(path.join(ROOT_DIR, 'templates/tenant.yaml'));
const spec = renderStack(loaded, {
  slug,
  appVersion: config.defaultAppVersion,
  images: stackImages(config, config.defaultAppVersion),
  secrets: generateSecrets(loaded),
  platform
});

async function firstOk(port: number, since: number): Promise<number> {
  for (;;) {
    const answer = await httpGet(`http://127.0.0.1:${port}/healthz`, 2000).catch(() => ({ status: 0 }));
    if (answer.status === 200) return (performance.now() - since) / 1000;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cold: number[] = [];
const warm: number[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    await downStack(runtime, slug, { deleteData: true, platform });
    let t0 = performance.now();
    const { publishedPort } = await upStack(runtime, spec, { probeIntervalMs: 50 });
    cold.push(await firstOk(publishedPort, t0));

    for (const s of [...spec.services].reverse()) await runtime.stopContainer(s.container.name, 10);
    t0 = performance.now();
    const again = await upStack(runtime, spec, { probeIntervalMs: 50 });
    warm.push(await firstOk(again.publishedPort, t0));
  }
} finally {
  await downStack(runtime, slug, { deleteData: true, platform });
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
console.log(`create stack → first 200 from /healthz: median ${median(cold).toFixed(2)} s  (runs: ${fmt(cold)})`);
console.log(`docker start of a stopped stack → first 200: median ${median(warm).toFixed(2)} s  (runs: ${fmt(warm)})`);
