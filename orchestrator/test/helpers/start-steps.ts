// Services of a stack start together (stack-runner.ts), so the order of their
// steps varies from run to run. What holds every time: network and volumes
// first; each service reported starting, then healthy, once; every service
// healthy before whatever follows the stack (storage-limit, route).
import type { Test } from 'tap';

export const STACK_SERVICES = ['db', 'storage', 'app'];

export function assertStartSteps(t: Test, steps: string[], options: { services?: string[]; after?: string[] } = {}): void {
  const services = options.services ?? STACK_SERVICES;
  const after = options.after ?? [];
  const shown = steps.join(', ');
  t.same(steps.slice(0, 2), ['network', 'volumes'], `network and volumes first (${shown})`);
  for (const service of services) {
    const starting = steps.indexOf(`${service}:starting`);
    const healthy = steps.indexOf(`${service}:healthy`);
    t.ok(starting >= 2 && healthy > starting, `${service}: starting, then healthy (${shown})`);
    t.equal(steps.filter((s) => s.startsWith(`${service}:`)).length, 2, `${service}: each reported once (${shown})`);
  }
  t.same(steps.slice(2 + services.length * 2), after, `then ${after.join(', ') || 'nothing'}, once every service is healthy (${shown})`);
}
