// A tenant's service containers by service name, and their logs: what the log
// routes and the console terminal need, checked against the tenant's stack so
// no caller names a container another tenant owns.
import { BerthError } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { TenantStacks } from './tenant-stacks.js';
import type { TenantsRepository } from './tenants.repository.js';

export class TenantLogs {
  constructor(private readonly d: { repo: TenantsRepository; runtime: ContainerRuntime; stacks: TenantStacks }) {}

  /** The container of one of the tenant's services; 400 naming the services when there is no such one. */
  async containerOf(slug: string, service: string): Promise<string> {
    const spec = this.d.stacks.specFor(await this.d.repo.mustGet(slug));
    const found = spec.services.find((s) => s.name === service);
    if (!found) {
      throw new BerthError('VALIDATION_FAILED', `tenant "${slug}" has no service "${service}" (services: ${spec.services.map((s) => s.name).join(', ')})`, { field: 'service' });
    }
    return found.container.name;
  }

  /** The container whose log to read: 409 SERVICE_NO_CONTAINER when there is none (a failed or unfinished create). */
  async logContainer(slug: string, service: string): Promise<string> {
    const container = await this.containerOf(slug, service);
    if (!(await this.d.runtime.inspectContainer(container))) {
      throw new BerthError('SERVICE_NO_CONTAINER', `tenant "${slug}" has no ${service} container now (phase ${(await this.d.repo.mustGet(slug)).phase}): there is no log to read`, { field: 'service' });
    }
    return container;
  }

  logs(container: string, tail: number): Promise<string> {
    return this.d.runtime.logs(container, tail);
  }

  followLogs(container: string, tail: number, onLine: (line: string) => void, onEnd: () => void): Promise<() => void> {
    return this.d.runtime.followLogs(container, tail, onLine, onEnd);
  }
}
