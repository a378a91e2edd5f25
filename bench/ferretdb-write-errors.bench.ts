// Do concurrent writes to the platform database (FerretDB on SQLite) ever fail?
// The writes an operation makes (step, end of operation, events) race the
// health monitor's and other operations' writes. Runs N writers against a
// FerretDB container of its own for S seconds and counts errors by message.
//   node --import tsx bench/ferretdb-write-errors.bench.ts [seconds=60] [writers=8]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../orchestrator/src/config/config.js';
import { silentLogger } from '../orchestrator/src/log.js';
import { ensurePlatformDb, removePlatformDb } from '../orchestrator/src/platform/platform-db.js';
import { DockerRuntime } from '../orchestrator/src/runtime/docker-runtime.js';

const seconds = Number(process.argv[2] ?? 60);
const writers = Number(process.argv[3] ?? 8);
const config = loadConfig();
const runtime = new DockerRuntime(silentLogger, config.dockerSocket);
const container = `berth-bench-fdb-${randomBytes(3).toString('hex')}`;
console.log(`ferretdb-write-errors: ${writers} writers for ${seconds} s on ${config.images.db}, one client each (as separate processes would)`);
// Its own home: the database's socket lives there (root only), as the platform's does.
const home = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-fdb-'));
const url = await ensurePlatformDb(runtime, { ...config, home, mongoUrl: undefined, platformDb: { container } });
const errors = new Map<string, number>();
let writes = 0;
let slowest = 0;
try {
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: writers }, async (_, n) => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    const db = client.db('bench');
    const tenants = db.collection<{ _id: string; step?: string; n?: number }>('tenants');
    const events = db.collection('events');
    await tenants.updateOne({ _id: `t${n}` }, { $set: { step: 'x' } }, { upsert: true });
    try {
      while (Date.now() < until) {
        const began = performance.now();
        try {
          await tenants.updateOne({ _id: `t${n % 2}` }, { $set: { step: String(writes) }, $inc: { n: 1 } });
          await events.insertOne({ tenant: `t${n}`, seq: writes, at: new Date() });
          writes += 2;
        } catch (err) {
          const msg = (err as Error).message.slice(0, 120);
          errors.set(msg, (errors.get(msg) ?? 0) + 1);
        }
        slowest = Math.max(slowest, performance.now() - began);
      }
    } finally {
      await client.close();
    }
  }));
} finally {
  await removePlatformDb(runtime, container, true);
  await rm(home, { recursive: true, force: true });
}
console.log(`writes ${writes}, slowest pair ${slowest.toFixed(0)} ms, errors ${[...errors.values()].reduce((a, b) => a + b, 0)}`);
for (const [msg, n] of errors) console.log(`  ${n} × ${msg}`);
