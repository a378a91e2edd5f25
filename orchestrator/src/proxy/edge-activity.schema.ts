// What the API shows of a team's traffic at the edge: a leaf, so the tenant
// schema, the activity module and the console share it.
import type { FromSchema } from 'json-schema-to-ts';

export const activitySchema = {
  type: 'object',
  description:
    "the team's traffic as nginx counted it, as last read (once per stats pass): requests and errors (answers with status >= 500, " +
    "Berth's own 503 pages for a team that is down or not answering included), counted since nginx started and carried across nginx " +
    'restarts while the orchestrator runs; open WebSockets now. Absent until the orchestrator first read nginx.',
  additionalProperties: false,
  required: ['requests', 'errors', 'openWebSockets', 'readAt'],
  properties: {
    lastRequestAt: { type: 'string', description: 'when the last request ended (a WebSocket: when it closed); absent if none yet' },
    requests: { type: 'integer', minimum: 0 },
    errors: { type: 'integer', minimum: 0 },
    openWebSockets: { type: 'integer', minimum: 0 },
    readAt: { type: 'string', description: 'when nginx was read' }
  }
} as const;

export type ActivityView = FromSchema<typeof activitySchema>;
