// berth-stack: starts, inspects and removes one tenant stack straight from a
// template, without the API. The platform command uses it for the demo stack.
//   node orchestrator/dist/cli/stack.js up <slug> [--plan P] [--template T]
//   node orchestrator/dist/cli/stack.js status <slug>
//   node orchestrator/dist/cli/stack.js down <slug> [--delete-data]
// Per-stack secrets live in $BERTH_HOME/stacks/<slug>.json (mode 0600).
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { BerthError } from '../errors.js';
import { jsonLogger } from '../log.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { stackImages } from '../stacks/images.js';
import { renderStack } from '../stacks/render.js';
import { generateSecrets } from '../stacks/secrets.js';
import { downStack, stackStatus, upStack } from '../stacks/stack-runner.js';
import { loadTemplate } from '../stacks/template-loader.js';

const USAGE = `Usage: berth-stack up <slug> [--plan P] [--template T] | status <slug> | down <slug> [--delete-data]`;

interface StackRecord {
  template: string;
  plan?: string;
  appVersion: string;
  secrets: Record<string, string>;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      plan: { type: 'string' },
      template: { type: 'string', default: 'tenant' },
      'delete-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' }
    }
  });
  const [command, slug] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!command || !slug || !['up', 'down', 'status'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const log = jsonLogger(config.logLevel === 'debug' ? 'debug' : 'warn');
  const runtime = new DockerRuntime(log, config.dockerSocket);
  const recordFile = path.join(config.home, 'stacks', `${slug}.json`);

  if (command === 'down') {
    await downStack(runtime, slug, { deleteData: values['delete-data'] });
    if (values['delete-data']) await rm(recordFile, { force: true });
    console.log(`stack ${slug} removed${values['delete-data'] ? ' with its data' : ' (volumes kept)'}`);
    return 0;
  }

  const record = await readRecord(recordFile);
  if (command === 'status' && !record) {
    console.error(`no stack ${slug} here (${recordFile} is missing)`);
    return 1;
  }
  const template = await loadTemplate(path.join(config.templatesDir, `${record?.template ?? values.template}.yaml`));
  const current: StackRecord = record ?? {
    template: template.name,
    plan: values.plan,
    appVersion: config.defaultAppVersion,
    secrets: generateSecrets(template)
  };
  const spec = renderStack(template, {
    slug,
    plan: current.plan,
    appVersion: current.appVersion,
    images: stackImages(config, current.appVersion),
    secrets: current.secrets
  });

  if (command === 'status') {
    console.log(JSON.stringify(await stackStatus(runtime, spec), null, 2));
    return 0;
  }
  if (!record) {
    await mkdir(path.dirname(recordFile), { recursive: true, mode: 0o700 });
    await writeFile(recordFile, JSON.stringify(current, null, 2), { mode: 0o600 });
  }
  const started = Date.now();
  const { publishedPort } = await upStack(runtime, spec, {
    onStep: (s) => console.log(`  ${s.step === 'service' ? `${s.service}: ${s.status}` : `${s.step}: ${s.status}`}`)
  });
  console.log(`stack ${slug} is healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  app:    http://127.0.0.1:${publishedPort}/`);
  console.log(`  health: curl http://127.0.0.1:${publishedPort}/healthz`);
  return 0;
}

async function readRecord(file: string): Promise<StackRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StackRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof BerthError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    console.error(`berth-stack: ${message}`);
    process.exit(1);
  }
);
