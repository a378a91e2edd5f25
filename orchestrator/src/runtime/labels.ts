// The labels Berth puts on every object it creates: it finds, reconciles and
// garbage-collects by label, never by parsing names (a name is a claim, a label is proof).
import { OWNER_LABELS } from './ownership.js';

export const LABEL = {
  managed: 'berth.managed',
  /** Which Berth installation owns it: a reconciler touches only its own. */
  platform: OWNER_LABELS.platform,
  tenant: OWNER_LABELS.tenant,
  service: 'berth.service',
  appVersion: 'berth.app-version',
  template: 'berth.template',
  /** Hash of everything a container was created from; a change means recreate. */
  configHash: 'berth.config-hash',
  /** Which of the routed service's two containers (blue/green) this is. */
  slot: 'berth.slot'
} as const;
