// Runs a service's health probe. exec probes run inside the container (the
// images carry berth-probe), http probes go through the port published on
// 127.0.0.1: the host never dials a container's own address.
import type { ContainerRuntime } from './types.js';
import { httpGet } from './http-get.js';
import type { Probe } from '../stacks/template.schema.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

export const PROBE_TIMEOUT_MS = 3000;

export async function runProbe(
  runtime: ContainerRuntime,
  container: string,
  probe: Probe,
  publishedPort?: number
): Promise<ProbeResult> {
  if ('exec' in probe) {
    try {
      const { exitCode, output } = await runtime.exec(container, probe.exec, PROBE_TIMEOUT_MS + 1000);
      return { ok: exitCode === 0, detail: output.trim() || `exit ${exitCode}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
  if (!publishedPort) return { ok: false, detail: 'no port published on 127.0.0.1' };
  const url = `http://127.0.0.1:${publishedPort}${probe.http.path}`;
  try {
    const { status, body } = await httpGet(url, PROBE_TIMEOUT_MS);
    return { ok: status >= 200 && status < 300, detail: `${status} ${body.slice(0, 300)}`.trim() };
  } catch (err) {
    return { ok: false, detail: `GET ${url}: ${(err as Error).message}` };
  }
}
