import type { FromSchema } from 'json-schema-to-ts';
import { eventSchema } from '../events/event.schema.js';
import { EMAIL_MAX } from '../formats.js';
import { storageSchema } from '../storage/storage.schema.js';
import { activitySchema } from '../proxy/edge-activity.schema.js';
import { sleepViewSchema } from './sleep.schema.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { RESERVED_PREFIX, RESERVED_SLUGS } from '../contract/reserved.js';
import { SLUG_RULE, SLUG_SCHEMA_PATTERN } from '../contract/slug.js';

// frozen: idle, its containers paused (memory kept); sleeping: idle longer,
// stopped by the sleep policy. Both wake on the next request, unlike an
// operator's `stopped`.
export const PHASES = ['provisioning', 'running', 'degraded', 'stopped', 'frozen', 'sleeping', 'hibernated', 'upgrading', 'restoring', 'failed', 'deleting'] as const;
export type Phase = (typeof PHASES)[number];

export const OPERATION_KINDS = ['create', 'start', 'stop', 'restart', 'delete', 'heal', 'upgrade', 'owner-link', 'freeze', 'sleep', 'wake', 'backup', 'restore'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

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
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string' } }
} as const;

export const tenantSchema = {
  $id: 'Tenant',
  type: 'object',
  description: 'A tenant as the API shows it: never its secrets.',
  additionalProperties: false,
  required: ['slug', 'displayName', 'plan', 'template', 'templateVersion', 'appVersion', 'phase', 'desired', 'url', 'port', 'createdAt', 'updatedAt'],
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
      additionalProperties: false,
      required: ['id', 'kind', 'step', 'startedAt'],
      properties: { id: { type: 'string' }, kind: { type: 'string', enum: [...OPERATION_KINDS] }, step: { type: 'string' }, startedAt: { type: 'string' } }
    },
    health: {
      type: 'object',
      additionalProperties: false,
      required: ['healthy', 'failures', 'checkedAt', 'restarts'],
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
      description: 'step and call: where a failed operation was, and the container-engine call it waited on',
      additionalProperties: false,
      required: ['code', 'message', 'at'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        at: { type: 'string' },
        step: { type: 'string', description: 'the step the failed operation was in' },
        call: { type: 'string', description: 'the container-engine call it was waiting on, when one was running' }
      }
    },
    services: { type: 'object', description: 'service name → container state, from the engine\'s list call (get and list only)', additionalProperties: { type: 'string' } },
    storage: storageSchema,
    activity: activitySchema,
    sleep: { ...sleepViewSchema, description: 'idle this long, the team is frozen (pause) or stopped (stop); its plan\'s times unless the team has its own (override)' },
    activeAt: { type: 'string', description: 'when the team last became running (a start, a wake): its idle time counts from here or its last request' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' }
  }
} as const;

export const accepted = {
  type: 'object',
  additionalProperties: false,
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
  properties: { slug, action: { type: 'string', enum: ['start', 'stop', 'restart', 'sleep', 'wake'], description: 'sleep freezes the team now (?stop=true: stops it); wake brings a frozen or sleeping team up' } }
} as const;

export const ownerLinkReply = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'expiresAt', 'operation'],
  properties: {
    url: { type: 'string', description: 'the owner\'s new one-time link to choose a password; the previous one stops working' },
    expiresAt: { type: 'string', format: 'date-time' },
    operation: operationRef
  }
} as const;


export const listReply = {
  type: 'object',
  additionalProperties: false,
  required: ['tenants'],
  properties: { tenants: { type: 'array', items: { $ref: 'Tenant#' } } }
} as const;

export const eventsQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }
} as const;

export const eventsReply = {
  type: 'object',
  additionalProperties: false,
  required: ['events'],
  properties: { events: { type: 'array', items: eventSchema } }
} as const;

export const logsReply = {
  type: 'object',
  additionalProperties: false,
  required: ['lines'],
  properties: { lines: { type: 'array', items: { type: 'string' } } }
} as const;

/** What a route's `$ref: 'Tenant#'` points at, for the types below and the routes' type provider. */
export type TenantRefs = [typeof tenantSchema];

export type TenantView = FromSchema<typeof tenantSchema>;
export type TenantHealth = NonNullable<TenantView['health']>;
export type TenantList = FromSchema<typeof listReply, { references: TenantRefs }>;
export type TenantAccepted = FromSchema<typeof accepted, { references: TenantRefs }>;
/** What a client may leave out: the server fills in the defaults. */
type AsSent = { keepDefaultedPropertiesOptional: true };
export type TenantListQuery = FromSchema<typeof listQuery>;
/** The create body as a client writes it: the server narrows template and plan to those it loaded. */
export type CreateTenantBody = FromSchema<ReturnType<typeof createBody>>;
export type DeleteTenantQuery = FromSchema<typeof deleteQuery, AsSent>;
export type TenantAction = FromSchema<typeof actionParams>['action'];
export type LogsQuery = FromSchema<ReturnType<typeof logsQuery>, AsSent>;
export type LogsReply = FromSchema<typeof logsReply>;
export type TenantEventsReply = FromSchema<typeof eventsReply>;
export type OwnerLinkReply = FromSchema<typeof ownerLinkReply>;
