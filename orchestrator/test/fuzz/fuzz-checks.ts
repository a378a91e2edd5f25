// What the API fuzz run must not have done, checked after it: touched an
// object it did not make (a bystander), or had a write accepted without the
// scope it needs (read from the audit log, which records every write that
// reached a route, refused or not).
import type { AuditEntry } from '../../src/audit/audit.repository.js';
import type { TokenInfo } from '../../src/auth/tokens.service.js';
import type { OperatorDoc } from '../../src/operators/operator.types.js';
import type { Platform } from '../../src/platform/platform.js';
import type { TenantDoc } from '../../src/tenants/tenant.types.js';

export interface Bystanders {
  operator: OperatorDoc;
  tenant: TenantDoc;
  tokens: TokenInfo[];
}

export async function snapshotBystanders(platform: Platform, operatorId: string, slug: string): Promise<Bystanders> {
  return {
    operator: await platform.operators.repo.mustGet(operatorId),
    tenant: await platform.repo.mustGet(slug),
    tokens: await platform.tokens.list()
  };
}

/** How each bystander differs now from `before`. */
export async function bystanderChanges(platform: Platform, before: Bystanders): Promise<string[]> {
  const problems: string[] = [];
  const operator = await platform.operators.repo.get(before.operator._id);
  if (!operator) problems.push(`operator ${before.operator.email} is gone`);
  else if (operator.status !== before.operator.status || operator.setupTokenHash !== before.operator.setupTokenHash) {
    problems.push(`operator ${operator.email} was changed (status ${before.operator.status} → ${operator.status}, setup link ${operator.setupTokenHash === before.operator.setupTokenHash ? 'kept' : 'replaced'})`);
  }
  const tenant = await platform.repo.get(before.tenant._id);
  if (!tenant) problems.push(`tenant ${before.tenant._id} is gone`);
  else if (tenant.updatedAt.getTime() !== before.tenant.updatedAt.getTime()) {
    problems.push(`tenant ${tenant._id} was changed (phase ${before.tenant.phase} → ${tenant.phase}, operation ${tenant.operation?.kind ?? 'none'})`);
  }
  const tokens = new Map((await platform.tokens.list()).map((t) => [t.id, t]));
  for (const token of before.tokens) {
    const now = tokens.get(token.id);
    if (!now) problems.push(`token ${token.name} is gone`);
    else if (now.revokedAt && !token.revokedAt) problems.push(`token ${token.name} was revoked`);
  }
  return problems;
}

/**
 * Writes that reached a route naming a bystander, whatever the answer: the
 * fuzz hook (hooks.py) maps each such id away before the call, so any entry
 * here is a write route the hook does not guard.
 */
export async function bystanderWrites(platform: Platform, before: Bystanders): Promise<string[]> {
  await platform.audit.flush();
  const ids = [before.operator._id, ...before.tokens.map((t) => t.id)];
  const entries = await platform.db.db.collection<AuditEntry>('audit_log')
    .find({ $or: [{ 'target.tenant': before.tenant._id }, { 'target.id': { $in: ids } }] })
    .toArray();
  return entries.map((e) => `${e.action} reached bystander ${e.target.tenant ?? e.target.id} (${e.status} ${e.result}): the fuzz hook does not guard it`);
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { 'x-berth-scope'?: string }>>;
}

/** The scope each operation needs, as the audit log names operations: "POST /api/v1/x/:id" → "write". */
function scopesOf(doc: OpenApiDoc): Map<string, string> {
  const scopes = new Map<string, string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      scopes.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op['x-berth-scope'] ?? 'admin');
    }
  }
  return scopes;
}

/** Writes that succeeded with less than the scope their operation needs: no token, or the read token. */
export async function scopeViolations(platform: Platform, readTokenId: string): Promise<{ writes: number; problems: string[] }> {
  await platform.audit.flush();
  const scopes = scopesOf(platform.app.swagger() as unknown as OpenApiDoc);
  const log = platform.db.db.collection<AuditEntry>('audit_log');
  const accepted = await log.find({ status: { $lt: 400 } }).toArray();
  const problems = accepted
    .filter((e) => {
      const needs = scopes.get(e.action) ?? 'admin';
      if (e.actor === null) return needs !== 'public';
      return e.actor.tokenId === readTokenId && (needs === 'write' || needs === 'admin');
    })
    .map((e) => `${e.action} (needs ${scopes.get(e.action) ?? 'admin'}) was accepted (${e.status}) from ${e.actor ? 'the read token' : 'no token'}`);
  return { writes: await log.countDocuments({}), problems };
}
