// A capacity measurement (`berth capacity measure`, POST /capacity/measurements):
// what an operator asks for, and the report it writes. Part of the contract
// (contract/index.ts): the CLI and the console read the report by this type.
import type { FromSchema } from 'json-schema-to-ts';

export const MEASUREMENT_STATES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type MeasurementState = (typeof MEASUREMENT_STATES)[number];

/** At most this many load teams at once, the check's 1.25 times included: a measurement is not a way round admission, which still asks for each. */
export const MAX_MEASURE_TEAMS = 200;

export const measureRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['teams', 'durationSeconds'],
  properties: {
    teams: { type: 'integer', minimum: 1, maximum: MAX_MEASURE_TEAMS, description: 'load-test teams made for the run (removed after it)' },
    durationSeconds: { type: 'integer', minimum: 10, maximum: 3600, description: 'how long the load runs (each run, when checking)' },
    members: { type: 'integer', minimum: 1, maximum: 20, default: 5, description: 'members using each team at once' },
    thinkMs: { type: 'integer', minimum: 100, maximum: 600_000, default: 3000, description: 'mean pause between a member\'s actions (exponential)' },
    check: { type: 'boolean', default: false, description: 'then run again at the predicted awake count and at 1.25 times it' },
    p95LimitMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 500, description: 'the p95 latency the operator accepts' }
  }
} as const;

/** Defaulted fields stay optional: the API fills them, a client may leave them out. */
export type MeasureRequest = FromSchema<typeof measureRequestSchema, { keepDefaultedPropertiesOptional: true }>;

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const nullableNum = { type: ['number', 'null'] } as const;

const hostSampleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['t', 'cpuBusy', 'processCpu', 'memoryAvailableBytes', 'diskReadBytesPerS', 'diskWriteBytesPerS'],
  properties: {
    t: { type: 'number', description: 'seconds since the run started' },
    cpuBusy: { type: 'number', description: 'busy share of all CPUs (0-1)' },
    processCpu: { type: 'number', description: 'the orchestrator process (load generator included), share of all CPUs' },
    memoryAvailableBytes: { type: ['integer', 'null'] },
    diskReadBytesPerS: num,
    diskWriteBytesPerS: num
  }
} as const;

const latencySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'n', 'p50', 'p95', 'p99', 'max'],
  properties: { kind: { type: 'string' }, n: int, p50: nullableNum, p95: nullableNum, p99: nullableNum, max: nullableNum }
} as const;

export const runSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['label', 'teams', 'durationSeconds', 'requests', 'errors', 'errorReasons', 'p50Ms', 'p95Ms', 'p99Ms', 'latency', 'liveLag', 'host', 'latencyOverTime', 'perTeam', 'cpuBusy', 'loadGeneratorCpu'],
  properties: {
    label: { type: 'string' },
    teams: int,
    durationSeconds: num,
    requests: int,
    errors: int,
    errorReasons: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['reason', 'count'], properties: { reason: { type: 'string' }, count: int } } },
    p50Ms: nullableNum,
    p95Ms: nullableNum,
    p99Ms: nullableNum,
    latency: { type: 'array', items: latencySchema, description: 'by kind of request' },
    liveLag: { ...latencySchema, description: 'a change until every other member\'s stream has it' },
    host: { type: 'array', items: hostSampleSchema, description: 'once a second' },
    latencyOverTime: {
      type: 'array',
      description: 'requests in 5-second buckets',
      items: { type: 'object', additionalProperties: false, required: ['t', 'n', 'p50', 'p95', 'errors'], properties: { t: num, n: int, p50: nullableNum, p95: nullableNum, errors: int } }
    },
    perTeam: {
      type: 'array',
      description: 'each team\'s containers, from the stats loop\'s reads (Docker stats: cgroup counters) during the run',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['slug', 'samples', 'cpuPercent', 'memoryBytes', 'blockReadBytes', 'blockWriteBytes'],
        properties: {
          slug: { type: 'string' },
          samples: { type: 'integer', description: 'reads taken' },
          cpuPercent: { type: 'number', description: 'mean, % of one CPU' },
          memoryBytes: { type: 'integer', description: 'the last read' },
          blockReadBytes: { type: 'integer', description: 'read from disk during the run' },
          blockWriteBytes: { type: 'integer', description: 'written to disk during the run' }
        }
      }
    },
    cpuBusy: { type: 'number', description: 'mean busy share of all CPUs, the load generator taken out' },
    loadGeneratorCpu: { type: 'number', description: 'mean share of all CPUs the orchestrator process took above its idle rate: the load generator, taken out of cpuBusy' }
  }
} as const;

export type MeasurementRun = FromSchema<typeof runSchema>;

export const measurementSchema = {
  $id: 'CapacityMeasurement',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'state', 'phase', 'startedAt', 'endedAt', 'error', 'request', 'ranWith', 'idle', 'runs', 'prediction', 'check', 'teams'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: MEASUREMENT_STATES },
    phase: { type: 'string', description: 'what it is doing, or what it did last' },
    startedAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
    error: { oneOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } }] },
    request: {
      type: 'object', additionalProperties: false, required: ['teams', 'durationSeconds', 'members', 'thinkMs', 'check', 'p95LimitMs'],
      properties: { teams: int, durationSeconds: int, members: int, thinkMs: int, check: { type: 'boolean' }, p95LimitMs: int }
    },
    ranWith: {
      type: 'object',
      additionalProperties: false,
      required: ['cpus', 'memoryTotalBytes', 'template', 'plan', 'appVersion', 'loops', 'intervalsMs', 'scenario', 'loadGenerator'],
      properties: {
        cpus: int,
        memoryTotalBytes: int,
        template: { type: 'string' },
        plan: { type: 'string' },
        appVersion: { type: 'string' },
        loops: { type: 'boolean', description: 'the orchestrator\'s health, reconcile, stats and sleep loops were running' },
        intervalsMs: { type: 'object', additionalProperties: false, required: ['health', 'reconcile', 'stats', 'sleep'], properties: { health: int, reconcile: int, stats: int, sleep: int } },
        scenario: { type: 'string', description: 'the team\'s load, in words' },
        loadGenerator: { type: 'string' }
      }
    },
    idle: {
      oneOf: [{ type: 'null' }, {
        type: 'object', additionalProperties: false, required: ['cpuBusy', 'processCpu', 'memoryAvailableBytes', 'diskFreeBytes'],
        description: 'the host before the load teams were made',
        properties: { cpuBusy: num, processCpu: num, memoryAvailableBytes: int, diskFreeBytes: int }
      }]
    },
    runs: { type: 'array', items: runSchema },
    prediction: {
      oneOf: [{ type: 'null' }, {
        type: 'object',
        additionalProperties: false,
        required: ['awake', 'boundBy', 'frozen', 'stopped', 'registered', 'model'],
        properties: {
          awake: { type: 'integer', description: 'teams this host holds awake under this load' },
          boundBy: { type: 'string', enum: ['cpu', 'memory', 'latency'] },
          frozen: { type: ['integer', 'null'], description: 'frozen teams besides, in the memory the awake ones leave; null: unbounded' },
          stopped: { type: ['integer', 'null'], description: 'stopped teams besides, on the disk; null: unbounded' },
          registered: { type: ['integer', 'null'], description: 'registered teams in all when the idle ones sleep; null: unbounded' },
          model: { type: 'array', items: { type: 'string' }, description: 'the model and the figures it used, in words' }
        }
      }]
    },
    check: {
      oneOf: [{ type: 'null' }, {
        type: 'object',
        additionalProperties: false,
        required: ['predicted', 'over', 'atPrediction', 'aboveIt', 'verdict', 'rounds'],
        description: 'the last round\'s counts and outcomes, the verdict, and every round: a prediction that broke the limit is refined from every run so far (capacity/model.ts refine) and checked again, at most 3 rounds',
        properties: {
          predicted: { type: 'integer', description: 'the last prediction checked' },
          over: { type: 'integer', description: '1.25 times it' },
          atPrediction: { type: 'string', enum: ['within', 'broken', 'not run'] },
          aboveIt: { type: 'string', enum: ['within', 'broken', 'not run'] },
          verdict: { type: 'string', description: 'how close the prediction was, in words' },
          rounds: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['predicted', 'over', 'basis', 'atPrediction', 'aboveIt'],
              properties: {
                predicted: int,
                over: int,
                basis: { type: 'string', description: 'where the count came from' },
                atPrediction: { type: 'string', enum: ['within', 'broken', 'not run'] },
                aboveIt: { type: 'string', enum: ['within', 'broken', 'not run'] }
              }
            }
          }
        }
      }]
    },
    teams: { type: 'array', items: { type: 'string' }, description: 'the load teams it made (all removed when it ends)' }
  }
} as const;

export type Measurement = FromSchema<typeof measurementSchema>;

export const measurementListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['measurements'],
  properties: {
    measurements: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'state', 'phase', 'startedAt', 'endedAt', 'teams', 'awake', 'registered'],
        properties: {
          id: { type: 'string' }, state: { type: 'string', enum: MEASUREMENT_STATES }, phase: { type: 'string' },
          startedAt: { type: 'string' }, endedAt: { type: ['string', 'null'] }, teams: int,
          awake: { type: ['integer', 'null'] }, registered: { type: ['integer', 'null'] }
        }
      }
    }
  }
} as const;

export type MeasurementList = FromSchema<typeof measurementListSchema>;
