// How live events change a tenant as the console shows it (pure; shared by the
// dashboard, the tenant page and the bench).
import t from 'tap';
import { applyEvent, listEffect, placeholder } from '../src/lib/tenant-events.js';
import type { BerthEvent } from '../../orchestrator/src/contract/index.js';
import type { Tenant } from '../src/lib/tenant.js';
import { activityLine, ago, describe } from '../src/lib/format.js';
import { asleep, durationWords, idleLine, phaseLabel, sleepSource } from '../src/lib/sleep.js';

let seq = 1;
const ev = (type: string, data: Record<string, unknown> = {}, extra: Partial<BerthEvent> = {}): BerthEvent => ({ seq: seq++, at: new Date().toISOString(), type, tenant: 'acme', data, ...extra });

function tenant(): Tenant {
  return { slug: 'acme', displayName: 'Acme', plan: 'starter', appVersion: '1.0.0', phase: 'running', url: 'http://acme.x/', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
}

t.test('an operation: started, steps, succeeded → phase from the event, no operation left', async (t) => {
  const x = tenant();
  applyEvent(x, ev('operation.started', { kind: 'stop' }, { operation: 'op1' }));
  t.same(x.operation, { id: 'op1', kind: 'stop', step: 'started', startedAt: x.operation!.startedAt });
  applyEvent(x, ev('operation.step', { kind: 'stop', step: 'app:stopping' }, { operation: 'op1' }));
  t.equal(x.operation!.step, 'app:stopping');
  applyEvent(x, ev('tenant.phase', { from: 'running', to: 'stopped' }));
  t.equal(x.phase, 'stopped');
  applyEvent(x, ev('operation.succeeded', { kind: 'stop', phase: 'stopped', seconds: 1.2 }, { operation: 'op1' }));
  t.equal(x.operation, undefined);
  t.equal(x.phase, 'stopped');
  t.equal(x.lastError, undefined);
});

t.test('a failed operation leaves its error; a later success clears it', async (t) => {
  const x = tenant();
  applyEvent(x, ev('operation.failed', { kind: 'start', phase: 'failed', code: 'HEALTH_TIMEOUT', message: 'app did not become healthy' }, { operation: 'op2' }));
  t.equal(x.phase, 'failed');
  t.match(x.lastError, { code: 'HEALTH_TIMEOUT', message: 'app did not become healthy' });
  applyEvent(x, ev('operation.succeeded', { kind: 'start', phase: 'running' }, { operation: 'op3' }));
  t.equal(x.lastError, undefined);
  t.equal(x.phase, 'running');
});

t.test('health: failures count up, restarts counted, back to running means healthy', async (t) => {
  const x = tenant();
  applyEvent(x, ev('health.check_failed', { failing: 'db', detail: 'ping failed', failures: 2 }));
  t.match(x.health, { healthy: false, failing: 'db', failures: 2, restarts: 0 });
  applyEvent(x, ev('health.restart', { service: 'db', attempt: 1 }));
  t.equal(x.health!.restarts, 1);
  applyEvent(x, ev('tenant.phase', { from: 'degraded', to: 'running', reason: 'healthy again' }));
  t.match(x.health, { healthy: true, failures: 0 });
  t.ok(x.runningSince, 'uptime restarts when it enters running');
});

t.test('stats replace the figures; a deleted operation end does not invent a phase', async (t) => {
  const x = tenant();
  applyEvent(x, ev('tenant.stats', { cpuPercent: 3.5, memoryBytes: 1024, memoryLimitBytes: 4096, services: {} }));
  t.match(x.stats, { cpuPercent: 3.5, memoryBytes: 1024, memoryLimitBytes: 4096 });
  applyEvent(x, ev('operation.succeeded', { kind: 'delete', phase: 'deleted' }));
  t.equal(x.phase, 'running');
  t.equal(applyEvent(x, ev('something.new')), false, 'unknown events change nothing');
});

t.test('activity from the edge: the event replaces the figures, and the Activity column reads them', async (t) => {
  const x = tenant();
  const now = Date.parse('2026-01-01T12:00:00Z');
  t.equal(activityLine(x.activity, now), '—', 'not read yet');
  t.equal(applyEvent(x, ev('tenant.activity', { lastRequestAt: '2026-01-01T11:59:48Z', requests: 340, errors: 2, openWebSockets: 1, readAt: '2026-01-01T11:59:50Z' })), true);
  t.match(x.activity, { requests: 340, errors: 2, openWebSockets: 1 });
  t.equal(activityLine(x.activity, now), '12 s ago · 340 req · 2 err · 1 ws');
  applyEvent(x, ev('tenant.activity', { lastRequestAt: '2026-01-01T11:55:00Z', requests: 341, errors: 0, openWebSockets: 0, readAt: '2026-01-01T11:59:55Z' }));
  t.equal(activityLine(x.activity, now), '5 min ago · 341 req', 'no errors, no WebSockets: left out');
  t.equal(activityLine({ requests: 0, errors: 0, openWebSockets: 0 }, now), 'no requests · 0 req');
  t.equal(ago(undefined, now), 'never');
  t.equal(ago('2025-12-29T12:00:00Z', now), '3 d ago');
  t.equal(ago('not a time', now), '—');
});

t.test('sleep in words: phases, idle time, the operations\' steps and why a team went to sleep', async (t) => {
  t.equal(phaseLabel('frozen'), 'frozen (paused)');
  t.equal(phaseLabel('sleeping'), 'asleep (stopped)');
  t.equal(phaseLabel('stopped'), 'stopped', 'an operator\'s stop keeps its word');
  t.ok(asleep('frozen') && asleep('sleeping'));
  t.notOk(asleep('stopped'), 'a stopped team does not wake on a visit');
  const now = Date.parse('2026-01-01T12:00:00Z');
  t.equal(idleLine(undefined, now), '—', 'the edge not read yet');
  t.equal(idleLine({}, now), 'no request yet');
  t.equal(idleLine({ lastRequestAt: '2026-01-01T10:00:00Z' }, now), 'idle 2 h');
  t.equal(idleLine({ lastRequestAt: '2026-01-01T11:59:30Z' }, now), 'idle 30 s');
  t.equal(idleLine({ lastRequestAt: '2026-01-01T11:45:00Z' }, now), 'idle 15 min');
  t.equal(idleLine({ lastRequestAt: '2025-12-25T12:00:00Z' }, now), 'idle 7 d');
  t.equal(durationWords('15m'), '15 min');
  t.equal(durationWords('never'), 'never');
  const at = { seq: 1, at: '' };
  t.equal(describe({ ...at, type: 'tenant.phase', data: { from: 'running', to: 'frozen' } }), 'phase running → frozen (paused)');
  t.equal(describe({ ...at, type: 'operation.step', data: { kind: 'freeze', step: 'pausing' } }), 'freeze: pausing its containers (memory kept, no CPU)');
  t.equal(describe({ ...at, type: 'operation.step', data: { kind: 'wake', step: 'thawing' } }), 'wake: thawing its containers');
  t.equal(describe({ ...at, type: 'operation.succeeded', data: { kind: 'sleep', seconds: 1.2, phase: 'sleeping' } }), 'sleep (stop) succeeded in 1.2 s → asleep (stopped)');
  t.equal(describe({ ...at, type: 'tenant.sleep', data: { kind: 'freeze', reason: 'idle', idleSeconds: 900 } }), 'frozen (paused): idle for 15 min');
  t.equal(describe({ ...at, type: 'tenant.sleep', data: { kind: 'sleep', reason: 'asked' } }), 'put to sleep (stopped) by an operator');
  t.match(describe({ ...at, type: 'tenant.sleep', data: { kind: 'sleep', reason: 'memory', availableBytes: 100 * 1048576, minAvailableBytes: 512 * 1048576 } }), /host memory short \(100 MiB free, 512 MiB wanted\)/);
  t.equal(describe({ ...at, type: 'tenant.sleep_times', data: { pause: '1s', stop: '12h', override: { pause: '1s' } } }), "sleep times set: pause after 1s, stop after 12h (the team's own: pause)");
  t.equal(describe({ ...at, type: 'tenant.sleep_times', data: { pause: '15m', stop: '12h', override: {} } }), "sleep times back to the plan's: pause after 15m, stop after 12h");
  t.equal(describe({ ...at, type: 'tenant.wake_failed', data: { code: 'HEALTH_TIMEOUT', message: 'app did not answer' } }), 'wake failed: HEALTH_TIMEOUT — app did not answer; the team is failed');
});

t.test('sleep times: the event updates the times in force and their source, keeping the plan\'s', async (t) => {
  const x: Tenant = { ...tenant(), sleep: { pause: '15m', stop: '12h', plan: { pause: '15m', stop: '12h' } } };
  t.equal(sleepSource(x.sleep!, 'pause'), 'plan');
  t.equal(applyEvent(x, ev('tenant.sleep_times', { pause: '1s', stop: '12h', pauseMs: 1000, stopMs: 43_200_000, override: { pause: '1s' } })), true);
  t.same(x.sleep, { pause: '1s', stop: '12h', plan: { pause: '15m', stop: '12h' }, override: { pause: '1s' } });
  t.equal(sleepSource(x.sleep!, 'pause'), 'team');
  t.equal(sleepSource(x.sleep!, 'stop'), 'plan');
  applyEvent(x, ev('tenant.sleep_times', { pause: '15m', stop: '12h', override: {} }));
  t.same(x.sleep, { pause: '15m', stop: '12h', plan: { pause: '15m', stop: '12h' } }, 'cleared: the plan\'s again');
  t.equal(applyEvent(x, ev('tenant.sleep_times', { pause: 5 })), false, 'a malformed event changes nothing');
  const bare = tenant();
  t.equal(applyEvent(bare, ev('tenant.sleep_times', { pause: '1s', stop: '1h', override: { pause: '1s' } })), false, 'a tenant read without sleep times waits for its next read');
});

t.test('what the list does: add on created, remove on deleted, read once at an operation end or for a stranger', async (t) => {
  t.equal(listEffect(ev('tenant.created', { plan: 'starter' }), false), 'add');
  t.equal(listEffect(ev('tenant.deleted'), true), 'remove');
  t.equal(listEffect(ev('operation.succeeded'), true), 'refetch');
  t.equal(listEffect(ev('tenant.phase', { to: 'running' }), false), 'refetch', 'we missed its creation');
  t.equal(listEffect(ev('tenant.phase', { to: 'running' }), true), undefined);
  t.match(placeholder(ev('tenant.created', { plan: 'pro', displayName: 'Acme Inc' })), { slug: 'acme', displayName: 'Acme Inc', plan: 'pro', phase: 'provisioning' });
});
