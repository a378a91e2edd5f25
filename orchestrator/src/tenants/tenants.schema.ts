import { EMAIL_MAX } from '../formats.js';
import type { LoadedTemplate } from '../stacks/template-loader.js';
import { RESERVED_PREFIX, RESERVED_SLUGS } from './reserved.js';
import { SLUG_RULE, SLUG_SCHEMA_PATTERN } from './slug.js';
import { PHASES, OPERATION_KINDS } from './tenant.types.js';

/** A tenant's slug, as a path parameter or a list item: lengths are checked before the pattern. */
export const slug = { type: 'string', minLength: 3, maxLength: 32, pattern: SLUG_SCHEMA_PATTERN, description: SLUG_RULE } as const;

/** A slug a new tenant may take: also none of the names the platform keeps for itself. */
export const newSlug = {
  ...slug,
  not: { anyOf: [{ enum: [...RESERVED_SLUGS] }, { pattern: `^${RESERVED_PREFIX}` }] },
  description: `${SLUG_RULE}; not a reserved name (${[...RESERVED_SLUGS].join(', ')}, or starting with ${RESERVED_PREFIX})`
} as const;

export const slugParam = {
  type: 'object',
  required: ['slug'],
  properties: { slug }
} as const;

const names = (values: Iterable<string>) => [...new Set(values)].sort();
/** `enum` of these values, or nothing when there are none (an empty enum is no schema). */
const oneOfNames = (values: string[]) => (values.length > 0 ? { enum: values } : {});

/** The create body; template and plan names are those of the templates this platform loaded. */
export function createBody(templates: Map<string, LoadedTemplate>) {
  const plans = names([...templates.values()].flatMap((t) => Object.keys(t.template['x-berth'].plans)));
  return {
    type: 'object',
    additionalProperties: false,
    required: ['slug'],
    properties: {
      slug: newSlug,
      displayName: { type: 'string', minLength: 1, maxLength: 80 },
      ownerEmail: { type: 'string', minLength: 3, maxLength: EMAIL_MAX, format: 'email' },
      plan: { type: 'string', minLength: 1, maxLength: 40, ...oneOfNames(plans), description: "one of the template's plans (default: its default plan)" },
      template: { type: 'string', minLength: 1, maxLength: 40, ...oneOfNames(names(templates.keys())), description: 'a loaded stack template (default: tenant)' }
    }
  } as const;
}

/** The logs query; service names are those of the loaded templates. */
export function logsQuery(templates: Map<string, LoadedTemplate>) {
  const services = names([...templates.values()].flatMap((t) => Object.keys(t.template.services)));
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      service: { type: 'string', minLength: 1, maxLength: 32, ...oneOfNames(services), default: 'app', description: "a service of the tenant's template" },
      tail: { type: 'integer', minimum: 0, maximum: 5000, default: 100, description: 'lines from the end' },
      follow: { type: 'boolean', default: false, description: 'keep the response open and stream new lines as text/plain' }
    }
  } as const;
}

const operationRef = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } }
} as const;

export const tenantSchema = {
  $id: 'Tenant',
  type: 'object',
  required: ['slug', 'displayName', 'plan', 'phase', 'appVersion', 'url'],
  properties: {
    slug: { type: 'string' },
    displayName: { type: 'string' },
    plan: { type: 'string' },
    template: { type: 'string' },
    templateVersion: { type: 'integer' },
    appVersion: { type: 'string' },
    phase: { type: 'string', enum: [...PHASES] },
    desired: { type: 'string', enum: ['running', 'stopped'] },
    url: { type: 'string' },
    port: { type: 'integer' },
    operation: {
      type: 'object',
      properties: { id: { type: 'string' }, kind: { type: 'string', enum: [...OPERATION_KINDS] }, step: { type: 'string' }, startedAt: { type: 'string' } }
    },
    health: {
      type: 'object',
      properties: {
        healthy: { type: 'boolean' },
        failures: { type: 'integer' },
        checkedAt: { type: 'string' },
        failing: { type: 'string' },
        detail: { type: 'string' },
        restarts: { type: 'integer' }
      }
    },
    lastError: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        at: { type: 'string' },
        step: { type: 'string', description: 'the step the failed operation was in' },
        call: { type: 'string', description: 'the container-engine call it was waiting on, when one was running' }
      }
    },
    services: { type: 'object', additionalProperties: { type: 'string' } },
    storage: {
      type: 'object',
      description: "the team's stored bytes (measured in its storage container) against its plan's storage quota",
      required: ['quotaBytes'],
      properties: {
        quotaBytes: { type: 'integer' },
        usedBytes: { type: 'integer' },
        checkedAt: { type: 'string', description: 'when usedBytes was measured' },
        error: { type: 'string', description: 'why the last measure, or setting the store\'s own limit, failed' }
      }
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' }
  }
} as const;

export const accepted = {
  type: 'object',
  required: ['operation'],
  properties: { operation: operationRef, tenant: { $ref: 'Tenant#' } }
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { phase: { type: 'string', enum: [...PHASES] } }
} as const;

// confirm must repeat the slug: a rule across path and query, which neither
// JSON Schema nor OpenAPI parameters can state; the service checks it
// (400 CONFIRMATION_REQUIRED) and the descriptions say it.
export const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deleteData: { type: 'boolean', default: false, description: 'also delete the volumes (database, files); needs confirm' },
    confirm: { type: 'string', maxLength: 64, description: 'with deleteData=true: the slug again, else 400 CONFIRMATION_REQUIRED' }
  }
} as const;

export const actionParams = {
  type: 'object',
  required: ['slug', 'action'],
  properties: { slug, action: { type: 'string', enum: ['start', 'stop', 'restart'] } }
} as const;

export const ownerLinkReply = {
  type: 'object',
  required: ['url', 'expiresAt', 'operation'],
  properties: {
    url: { type: 'string', description: 'the owner\'s new one-time link to choose a password; the previous one stops working' },
    expiresAt: { type: 'string', format: 'date-time' },
    operation: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } }
  }
} as const;

