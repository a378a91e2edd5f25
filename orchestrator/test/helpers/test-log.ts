// Test platforms and the orchestrator processes a test starts keep their log:
// one file each under test-logs/<test file>/ (kept after the run, ignored by
// git). When the test file fails, or tap ends it for its timeout, the last
// lines of every log it wrote are printed, so a red run says where it hung.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { destination, pino, stdTimeFunctions } from 'pino';
import t from 'tap';
import { authLogSerializers } from '../../src/auth/auth.plugin.js';
import { ROOT_DIR } from '../../src/config/config.js';
import type { Logger } from '../../src/log.js';

const TAIL_LINES = 60;
const files: string[] = [];
let watching = false;

/** The folder of this test file's logs: test-logs/<path of the test file without .test.ts>. */
export function testLogDir(): string {
  const main = process.argv[1] ?? 'unknown';
  const rel = path.relative(ROOT_DIR, main).replace(/\.test\.[cm]?[jt]s$/, '').replace(/^(\.\.\/)+/, '');
  return path.join(ROOT_DIR, 'test-logs', rel);
}

/** A new log file for `name` in this test file's folder, printed if the file fails. */
export function testLogFile(name: string): string {
  const dir = testLogDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^a-zA-Z0-9_.-]/g, '_')}.log`);
  appendFileSync(file, `--- ${new Date().toISOString()} ${path.basename(process.argv[1] ?? '')} pid ${process.pid}\n`);
  files.push(file);
  watch();
  return file;
}

/** A pino logger (info and up, tokens redacted as in production) writing to a test log file. */
export function testLogger(name: string): { log: Logger; file: string } {
  const file = testLogFile(name);
  // sync: a process tap kills must not lose the lines that say why.
  const log = pino({ level: 'info', serializers: authLogSerializers, timestamp: stdTimeFunctions.isoTime }, destination({ dest: file, sync: true, append: true }));
  return { log, file };
}

/** The last lines of every log this test file wrote, for a failure report. */
export function tails(lines = TAIL_LINES): string {
  return files
    .map((file) => {
      const text = readFileSync(file, 'utf8').trimEnd().split('\n');
      return `==> ${path.relative(ROOT_DIR, file)} (last ${Math.min(lines, text.length)} of ${text.length} lines)\n${text.slice(-lines).join('\n')}`;
    })
    .join('\n');
}

function report(why: string): void {
  if (files.length === 0) return;
  process.stderr.write(`\n# ${why}: the last lines of this test's platform logs\n${tails()}\n`);
}

function watch(): void {
  if (watching) return;
  watching = true;
  // At exit, not in a root teardown: a teardown on the root makes tap end it
  // as soon as it is idle, which would cut off subtests a file declares after
  // a top-level await. Writes to stderr (a pipe) are synchronous here.
  process.once('exit', (code) => {
    if (code !== 0 || !t.passing()) report('a test failed');
  });
  // tap ends a file that passes its timeout with SIGTERM: say where it was, then die of the signal.
  process.once('SIGTERM', () => {
    report('ended by SIGTERM (tap timeout?)');
    process.kill(process.pid, 'SIGTERM');
  });
}
