// The console's production entry: `node console/server.js`. adapter-node's
// handler serves the pages; this adds the WebSocket proxy (ws-proxy.js),
// which adapter-node has no hook for, and a graceful shutdown.
import http from 'node:http';
import { attachWebSocketProxy } from './ws-proxy.js';
import { loadConfig } from './src/lib/server/read-config.js';

const config = loadConfig();
// No console form needs more than 64 KB (src/lib/server/forms.ts checks the
// same): adapter-node's 512 KB default would let every anonymous POST to
// /onboard hold half a megabyte. Read by the handler when it loads, so set
// first; an operator may still choose another value.
process.env.BODY_SIZE_LIMIT ??= '64K';
const { handler } = await import('./build/handler.js');

const server = http.createServer((req, res) => handler(req, res));
const proxy = attachWebSocketProxy(server, {
  apiUrl: config.apiUrl,
  origin: config.origin,
  log: (msg, fields) => console.error(JSON.stringify({ level: 'warn', msg, ...fields }))
});

server.listen(config.port, config.host, () => {
  console.log(JSON.stringify({ level: 'info', msg: 'console listening', url: `http://${config.host}:${config.port}`, api: config.apiUrl }));
});

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  proxy.close();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
