// Server-sent events: every board change of this team, as it happens.
import type { BoardEvent } from '$lib/server/board/board.types';
import { api } from '$lib/server/http/api';
import { hub } from '$lib/server/realtime/hub';
import type { RequestHandler } from './$types';

const HEARTBEAT_MS = 25_000; // under nginx's proxy_read_timeout (300 s) and most idle limits

export const GET: RequestHandler = api(async ({ request }) => {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const heartbeat = setInterval(() => send(': ping\n\n'), HEARTBEAT_MS);
      const unsubscribe = hub.subscribe(
        (event: BoardEvent) => send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
        () => {
          stop();
          try {
            controller.close();
          } catch {
            // already closed
          }
        }
      );
      stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      request.signal.addEventListener('abort', () => stop());
      send(': connected\nretry: 2000\n\n');
    },
    cancel() {
      stop();
    }
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx buffers proxied responses by default, which would hold events back.
      'x-accel-buffering': 'no'
    }
  });
});
