// Live events: a WebSocket for browsers and a server-sent-event stream for
// curl (the CLI's --wait). Both can narrow to one tenant or one operation, and
// the stream first replays what that operation already did, so a client that
// connects late still sees how it ended.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FromSchema } from 'json-schema-to-ts';
import type { BerthEvent, EventBus } from './event-bus.js';
import { catchUp } from './catch-up.js';

const filter = {
  tenant: { type: 'string', maxLength: 64, description: 'only events of this tenant (slug)' },
  operation: { type: 'string', maxLength: 64, description: 'only events of this operation or upgrade job (id); replays what it already did' }
} as const;

const streamQuery = { type: 'object', additionalProperties: false, properties: filter } as const;
// Browsers cannot set headers on a WebSocket: the token may come in the query there, and only there.
const socketQuery = { type: 'object', additionalProperties: false, properties: { ...filter, access_token: { type: 'string' } } } as const;

/** One server-sent event, as its fields. */
const sseEvent = {
  type: 'object',
  required: ['id', 'event', 'data'],
  properties: {
    id: { type: 'string', description: 'the event\'s sequence number' },
    event: { type: 'string', description: 'its type, e.g. operation.step, tenant.phase, upgrade.state' },
    data: { type: 'string', description: 'the whole event as JSON: {seq, at, type, tenant?, operation?, data}' }
  }
} as const;

const matches = (f: FromSchema<typeof streamQuery>) => (e: BerthEvent) => (!f.tenant || e.tenant === f.tenant) && (!f.operation || e.operation === f.operation);

const HEARTBEAT_MS = 15_000;

export const eventsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { events: EventBus } }> = async (app, { events }) => {
  app.get('/events', {
    config: { scope: 'read' },
    websocket: true,
    schema: { tags: ['events'], querystring: socketQuery }
  }, (socket, req) => {
    const wanted = matches(req.query);
    const unsubscribe = events.subscribe((e) => {
      if (wanted(e)) socket.send(JSON.stringify(e));
    });
    socket.on('close', unsubscribe);
  });

  app.get('/events/stream', {
    config: { scope: 'read' },
    schema: {
      tags: ['events'],
      summary: 'Server-sent events: a ": connected" comment at once, then each event as "id, event, data" (data is the event as JSON)',
      querystring: streamQuery,
      response: { 200: { description: 'an event stream that stays open (a ": keep-alive" comment every 15 s)', content: { 'text/event-stream': { schema: sseEvent } } } }
    }
  }, async (req, reply) => {
    const wanted = matches(req.query);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // Headers and a first comment now, not with the first event (which may be
    // minutes away): a client knows at once that it is subscribed.
    reply.raw.write(': connected\n\n');
    const send = (e: BerthEvent) => reply.raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    // Subscribe before reading history so nothing falls between the two (catch-up.ts).
    const buffered: BerthEvent[] = [];
    let live = false;
    let last = 0;
    const unsubscribe = events.subscribe((e) => {
      if (!wanted(e)) return;
      if (!live) return void buffered.push(e);
      if (e.seq > last) send(e), (last = e.seq);
    });
    const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.raw.on('close', () => {
      unsubscribe();
      clearInterval(heartbeat);
    });
    const past = req.query.operation || req.query.tenant ? await events.history(req.query, 500) : [];
    for (const e of catchUp(past, buffered)) send(e), (last = e.seq);
    live = true;
  });
};
