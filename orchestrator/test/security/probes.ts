// Probes run from inside a team's container, as the user its image runs as
// (exec without a user), with the Node the tenant-app image already has: one
// TCP connect attempt per target with a short timeout, DNS through the
// container's own resolver (Docker's embedded DNS), and file checks. The
// targets travel as JSON in argv, never spliced into the code.
import type { Test } from 'tap';
import { runtime } from '../helpers/docker.js';

export type Probe =
  | { kind: 'tcp'; label: string; host: string; port: number; send?: string }
  | { kind: 'dns'; label: string; name: string }
  | { kind: 'file'; label: string; path: string };

/** connected | refused | timeout | nxdomain | <error code> for tcp; resolved | <error code> for dns; exists | absent for files. */
export interface ProbeResult {
  result: string;
  addresses?: string[];
  /** The first line the other side sent (after `send`, if any). */
  greeting?: string;
}

export const CONNECT_TIMEOUT_MS = 1500;

const SCRIPT = `
const net = require('net'), dns = require('dns').promises, fs = require('fs');
const { probes, timeoutMs } = JSON.parse(process.argv[1]);
function tcp(p) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: p.host, port: p.port });
    let connected = false, data = '', done = false;
    const end = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const line = data.split('\\n')[0].trim();
      resolve(line ? { result, greeting: line.slice(0, 120) } : { result });
    };
    const timer = setTimeout(() => end(connected ? 'connected' : 'timeout'), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      if (p.send) socket.write(p.send);
    });
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\\n')) end('connected');
    });
    socket.on('end', () => end(connected ? 'connected' : 'closed'));
    socket.on('error', (e) => end(connected ? 'connected' : e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ENOTFOUND' ? 'nxdomain' : String(e.code || e.message)));
  });
}
function one(p) {
  if (p.kind === 'file') return Promise.resolve({ result: fs.existsSync(p.path) ? 'exists' : 'absent' });
  if (p.kind === 'dns') {
    return dns.lookup(p.name, { all: true, family: 4 }).then(
      (found) => ({ result: 'resolved', addresses: found.map((a) => a.address).sort() }),
      (e) => ({ result: String(e.code || e.message) })
    );
  }
  return tcp(p);
}
Promise.all(probes.map(one)).then((results) => process.stdout.write(JSON.stringify({ uid: process.getuid(), results })));
`;

/** Runs every probe at once from inside `container`; returns the results in order and the uid they ran as. */
export async function probeFrom(container: string, probes: Probe[]): Promise<{ uid: number; results: ProbeResult[] }> {
  const { exitCode, output } = await runtime.exec(container, ['node', '-e', SCRIPT, JSON.stringify({ probes, timeoutMs: CONNECT_TIMEOUT_MS })], 30_000);
  if (exitCode !== 0) throw new Error(`probe script failed in ${container} (exit ${exitCode}): ${output}`);
  return JSON.parse(output) as { uid: number; results: ProbeResult[] };
}

export function describe(p: Probe): string {
  if (p.kind === 'tcp') return `tcp ${p.host}:${p.port}${p.send ? ` ${JSON.stringify(p.send.split('\r\n')[0])}` : ''}`;
  if (p.kind === 'dns') return `dns ${p.name}`;
  return `file ${p.path}`;
}

/** One comment line per probe, the list the report quotes. */
export function logProbes(t: Test, title: string, probes: Probe[], results: ProbeResult[]): void {
  t.comment(`${title}:`);
  probes.forEach((p, i) => {
    const r = results[i]!;
    const extra = r.addresses ? ` ${r.addresses.join(',')}` : r.greeting ? ` "${r.greeting}"` : '';
    t.comment(`  ${p.label} | ${describe(p)} | ${r.result}${extra}`);
  });
}

/** True when the probe got nothing: no connection, no name, no file. */
export function blocked(r: ProbeResult): boolean {
  return r.result !== 'connected' && r.result !== 'resolved' && r.result !== 'exists';
}
