// The wake listener: the one door nginx knocks on for a frozen or sleeping
// team. It listens on 127.0.0.1 only, on a port of its own (BERTH_WAKE_PORT),
// never on the API's address: teams' containers cannot reach the host's
// loopback, and the API (which nginx also serves to the world) has no way in.
// One request per ask, plain HTTP/1.0 the Lua side writes by hand:
//   GET /wake/<slug>?wait=<ms>   ->  200 "up <port>"
//                                    202 "waking <hold ms>"   (ask again, or show the page)
//                                    503 "failed <reason>"
//                                    503 "full"               (the host has no room now; the team stays asleep)
//                                    404 "unknown"           (no such team)
//                                    400 "<problem>"          (a slug that is not one)
// The slug comes from nginx's route entry, but is checked as hostile all the same.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { slugProblem } from '../contract/slug.js';
import type { Logger } from '../log.js';
import type { AskOutcome } from './waker.js';

/** No ask is held longer than this (berth_routes.lua's read timeout is a little more). */
export const MAX_ASK_MS = 5000;

export interface WakeServerDeps {
  ask(slug: string, waitMs: number): Promise<AskOutcome>;
  /** How long an API client is held in all (told to nginx in every "waking" answer). */
  holdMs: number;
  log: Logger;
}

function send(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(`${text}\n`);
}

export function wakeHandler(d: WakeServerDeps): http.RequestListener {
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || url.length > 128) return send(res, 400, 'expected GET /wake/<slug>?wait=<ms>');
    const m = /^\/wake\/([^/?]{1,40})(?:\?wait=(\d{1,5}))?$/.exec(url);
    const slug = m?.[1] ?? '';
    const problem = !m ? 'expected GET /wake/<slug>?wait=<ms>' : slug.length > 32 ? 'slug: longer than 32 characters' : slugProblem(slug);
    if (problem) return send(res, 400, `not a tenant slug: ${problem}`);
    const waitMs = Math.min(Number(m![2] ?? 1000), MAX_ASK_MS);
    d.ask(slug, waitMs).then((outcome) => {
      switch (outcome.state) {
        case 'up': return send(res, 200, `up ${outcome.port}`);
        case 'waking': return send(res, 202, `waking ${d.holdMs}`);
        case 'unknown': return send(res, 404, 'unknown');
        case 'failed': return send(res, 503, `failed ${outcome.message.replace(/\s+/g, ' ').slice(0, 300)}`);
        // The host's figures are for operators (the capacity.refused event), not for a team's visitors.
        case 'full': return send(res, 503, 'full');
      }
    }, (err: Error) => {
      d.log.error({ tenant: slug, err: err.message }, 'wake ask failed');
      send(res, 503, `failed ${err.message.replace(/\s+/g, ' ').slice(0, 300)}`);
    });
  };
}

export interface WakeServer {
  port: number;
  close(): Promise<void>;
}

export async function startWakeServer(port: number, d: WakeServerDeps): Promise<WakeServer> {
  const server = http.createServer(wakeHandler(d));
  server.headersTimeout = 5000;
  server.requestTimeout = MAX_ASK_MS + 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    })
  };
}
