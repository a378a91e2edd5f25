// How live events change a tenant as the console shows it (pure; shared by the
// dashboard, the tenant page and the bench).
import t from 'tap';
import { applyEvent, listEffect, placeholder } from '../src/lib/tenant-events.js';
import type { BerthEvent } from '../../orchestrator/src/contract/index.js';
import type { Tenant } from '../src/lib/tenant.js';
import { activityLine, ago } from '../src/lib/format.js';

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

t.test('what the list does: add on created, remove on deleted, read once at an operation end or for a stranger', async (t) => {
  t.equal(listEffect(ev('tenant.created', { plan: 'starter' }), false), 'add');
  t.equal(listEffect(ev('tenant.deleted'), true), 'remove');
  t.equal(listEffect(ev('operation.succeeded'), true), 'refetch');
  t.equal(listEffect(ev('tenant.phase', { to: 'running' }), false), 'refetch', 'we missed its creation');
  t.equal(listEffect(ev('tenant.phase', { to: 'running' }), true), undefined);
  t.match(placeholder(ev('tenant.created', { plan: 'pro', displayName: 'Acme Inc' })), { slug: 'acme', displayName: 'Acme Inc', plan: 'pro', phase: 'provisioning' });
});
