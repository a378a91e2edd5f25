// Live events: a WebSocket for browsers and a server-sent-event stream for
// curl (the CLI's --wait). Both can narrow to one tenant or one operation, and
// the stream first replays what that operation already did, so a client that
// connects late still sees how it ended.
import type { FastifyPluginAsync } from 'fastify';
import type { BerthEvent, EventBus } from './event-bus.js';

interface Filter {
  tenant?: string;
  operation?: string;
}

const filterQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: { type: 'string', maxLength: 64 },
    operation: { type: 'string', maxLength: 64 },
    access_token: { type: 'string' }
  }
} as const;

const matches = (f: Filter) => (e: BerthEvent) => (!f.tenant || e.tenant === f.tenant) && (!f.operation || e.operation === f.operation);

const HEARTBEAT_MS = 15_000;

export const eventsRoutes: FastifyPluginAsync<{ events: EventBus }> = async (app, { events }) => {
  app.get<{ Querystring: Filter }>('/events', {
    config: { scope: 'read' },
    websocket: true,
    schema: { tags: ['events'], querystring: filterQuery }
  }, (socket, req) => {
    const wanted = matches(req.query);
    const unsubscribe = events.subscribe((e) => {
      if (wanted(e)) socket.send(JSON.stringify(e));
    });
    socket.on('close', unsubscribe);
  });

  app.get<{ Querystring: Filter }>('/events/stream', {
    config: { scope: 'read' },
    schema: { tags: ['events'], querystring: filterQuery }
  }, async (req, reply) => {
    const wanted = matches(req.query);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const send = (e: BerthEvent) => reply.raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    // Subscribe before reading history so nothing falls between the two; dedupe by seq.
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
    if (req.query.operation || req.query.tenant) {
      for (const e of await events.history(req.query, 500)) send(e), (last = Math.max(last, e.seq));
    }
    for (const e of buffered) if (e.seq > last) send(e), (last = e.seq);
    live = true;
  });
};
