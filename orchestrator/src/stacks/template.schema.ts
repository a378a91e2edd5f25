// JSON schema of a stack template: the subset of the Compose format Berth
// runs, plus its `x-berth` extensions. Anything else is refused by name rather
// than silently ignored, so a template never means more than Berth does.
// Service and volume names are one segment of a Docker object's name
// (names.ts), so they cannot contain a dot.
import { TEMPLATE_PART } from '../names.js';

/** What a plan may allow (x-berth.plans.<plan>.allow); nothing is allowed unless listed (hardening.ts). */
export const ALLOWANCES = ['cap_add', 'privileged', 'security_opt', 'root_user', 'writable_rootfs'] as const;
export type Allowance = (typeof ALLOWANCES)[number];

const sizePattern = '^[0-9]+(\\.[0-9]+)?[kmgKMG]?$';

const limits = {
  type: 'object',
  additionalProperties: false,
  required: ['memory', 'cpus', 'pids'],
  properties: {
    memory: { type: 'string', pattern: sizePattern, description: 'e.g. 256m, 1g' },
    cpus: { type: 'number', exclusiveMinimum: 0, maximum: 64 },
    pids: { type: 'integer', minimum: 16, maximum: 65536 }
  }
} as const;

// Limits at the edge (stacks/plan-edge.ts checks the meaning: rate and size
// formats); here types and lengths only, so no pattern ever runs on a long value.
const edge = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rate: { type: 'string', maxLength: 12, description: 'requests per team, e.g. 20r/s or 300r/m' },
    burst: { type: 'integer', minimum: 0, maximum: 100000, description: 'requests over the rate answered at once before 429' },
    connections: { type: 'integer', minimum: 1, maximum: 100000, description: 'requests a team may have in flight at once' },
    max_body_size: { type: 'string', maxLength: 12, description: 'the largest request body, e.g. 100m' }
  }
} as const;

// When an idle team sleeps (stacks/plan-sleep.ts checks the durations).
const sleep = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pause: { type: 'string', maxLength: 12, description: 'idle this long, the team is frozen (docker pause), e.g. 15m, or never' },
    stop: { type: 'string', maxLength: 12, description: 'idle this long, the team is stopped (0 MB), e.g. 12h, or never' }
  }
} as const;

// How often a team is backed up and what is kept (stacks/plan-backup.ts checks the duration).
const backup = {
  type: 'object',
  additionalProperties: false,
  properties: {
    every: { type: 'string', maxLength: 12, description: 'a backup this often, e.g. 24h, or never' },
    keep: {
      type: 'object',
      additionalProperties: false,
      properties: {
        daily: { type: 'integer', minimum: 0, maximum: 366 },
        weekly: { type: 'integer', minimum: 0, maximum: 520 },
        'pre-upgrade': { type: 'integer', minimum: 0, maximum: 100 }
      }
    }
  }
} as const;

const probe = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    exec: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: { path: { type: 'string', pattern: '^/' } }
    }
  }
} as const;

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['image', 'x-berth'],
  properties: {
    image: { type: 'string', minLength: 1 },
    command: { type: 'array', items: { type: 'string' } },
    environment: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] }
    },
    volumes: { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9-]*:/[^:]*$' } },
    depends_on: {
      oneOf: [
        { type: 'array', items: { type: 'string' } },
        {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['condition'],
            properties: { condition: { enum: ['service_healthy', 'service_started'] } }
          }
        }
      ]
    },
    // The runtime always drops every capability, sets no-new-privileges, a
    // read-only root filesystem and a non-root user (hardening.ts); asking for
    // more needs the plan's allow list.
    cap_drop: { type: 'array', maxItems: 64, items: { type: 'string', pattern: '^[A-Z_]{1,40}$' }, description: 'ignored: every capability is dropped' },
    cap_add: { type: 'array', maxItems: 64, items: { type: 'string', pattern: '^[A-Z_]{1,40}$' } },
    security_opt: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 200 } },
    privileged: { type: 'boolean' },
    read_only: { type: 'boolean' },
    // Numeric ids only: a name would be looked up in the image, which Berth cannot check for root.
    user: { type: 'string', maxLength: 21, pattern: '^(root|[0-9]{1,10})(:[0-9]{1,10})?$', description: 'uid[:gid]' },
    tmpfs: {
      type: 'array',
      maxItems: 8,
      uniqueItems: true,
      items: { type: 'string', maxLength: 120, pattern: '^/[a-zA-Z0-9/_.-]{0,100}(:size=[0-9]{1,6}[kmg])?$', description: '/path or /path:size=16m (default 64m)' }
    },
    'x-berth': {
      type: 'object',
      additionalProperties: false,
      required: ['probe'],
      properties: { probe }
    }
  }
} as const;

export const templateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['x-berth', 'services'],
  properties: {
    name: { type: 'string' },
    'x-berth': {
      type: 'object',
      additionalProperties: false,
      required: ['version', 'route', 'plans', 'default_plan'],
      properties: {
        version: { type: 'integer', minimum: 1 },
        description: { type: 'string' },
        route: {
          type: 'object',
          additionalProperties: false,
          required: ['service', 'port'],
          properties: {
            service: { type: 'string' },
            port: { type: 'integer', minimum: 1, maximum: 65535 }
          }
        },
        secrets: { type: 'array', items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' }, uniqueItems: true },
        storage: {
          type: 'object',
          additionalProperties: false,
          required: ['service', 'usage'],
          properties: {
            service: { type: 'string' },
            usage: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'prints the bytes the team stores' },
            limit: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'sets the store\'s own limit to ${STORAGE_QUOTA_BYTES}' }
          }
        },
        default_plan: { type: 'string' },
        plans: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^[a-z][a-z0-9-]*$' },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['limits'],
            properties: {
              description: { type: 'string' },
              storage_quota: { type: 'string', pattern: sizePattern, description: 'the most the team may store, e.g. 1g' },
              limits: { type: 'object', additionalProperties: limits },
              edge,
              sleep,
              backup,
              // What this plan's services may have beyond the runtime's defaults.
              allow: { type: 'array', uniqueItems: true, items: { enum: [...ALLOWANCES] } }
            }
          }
        }
      }
    },
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: TEMPLATE_PART.source },
      additionalProperties: service
    },
    volumes: {
      type: 'object',
      propertyNames: { pattern: TEMPLATE_PART.source },
      additionalProperties: { type: ['object', 'null'], additionalProperties: false }
    }
  }
} as const;

export interface Limits {
  memory: string;
  cpus: number;
  pids: number;
}
/** x-berth.plans.<plan>.edge: every field optional (stacks/plan-edge.ts fills defaults). */
export interface PlanEdge {
  rate?: string;
  burst?: number;
  connections?: number;
  max_body_size?: string;
}
/** x-berth.plans.<plan>.sleep: durations such as 15m or 12h, or never (stacks/plan-sleep.ts fills defaults). */
export interface PlanSleep {
  pause?: string;
  stop?: string;
}
/** x-berth.plans.<plan>.backup: every field optional (stacks/plan-backup.ts fills defaults). */
export interface PlanBackupSpec {
  every?: string;
  keep?: { daily?: number; weekly?: number; 'pre-upgrade'?: number };
}
export type Probe = { exec: string[] } | { http: { path: string } };
export interface TemplateService {
  image: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: 'service_healthy' | 'service_started' }>;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  privileged?: boolean;
  read_only?: boolean;
  user?: string;
  tmpfs?: string[];
  'x-berth': { probe: Probe };
}
export interface StorageSpec {
  service: string;
  usage: string[];
  limit?: string[];
}
export interface StackTemplate {
  name?: string;
  'x-berth': {
    version: number;
    description?: string;
    route: { service: string; port: number };
    secrets?: string[];
    /** Where the team's files live: run in that service's container, `usage` prints their bytes, `limit` caps them. */
    storage?: StorageSpec;
    default_plan: string;
    plans: Record<string, { description?: string; storage_quota?: string; limits: Record<string, Limits>; edge?: PlanEdge; sleep?: PlanSleep; backup?: PlanBackupSpec; allow?: Allowance[] }>;
  };
  services: Record<string, TemplateService>;
  volumes?: Record<string, Record<string, never> | null>;
}

/** A template as loaded (template-loader.ts): its name, its file and the parsed, validated document. */
export interface LoadedTemplate {
  name: string;
  file: string;
  template: StackTemplate;
}
