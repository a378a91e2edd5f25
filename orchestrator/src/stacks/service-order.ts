import type { TemplateService } from './template.schema.js';

export function dependencies(dependsOn: TemplateService['depends_on']): string[] {
  if (!dependsOn) return [];
  return Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn);
}

/**
 * Services in dependency order (each after everything it depends on), or the
 * cycle that makes such an order impossible. Ties keep the template's order.
 */
export function serviceOrder(services: Record<string, TemplateService>): { order: string[]; cycle?: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (name: string): void => {
    if (cycle || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycle = [...stack.slice(stack.indexOf(name)), name];
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of dependencies(services[name]?.depends_on)) {
      if (services[dep]) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name);
  return cycle ? { order, cycle } : { order };
}
