// The CLI's HTTP client: BERTH_URL and BERTH_TOKEN (the CLI's only settings),
// JSON requests, and streamed GETs. The token travels only in a header, never
// on a command line. node:http rather than fetch: loading fetch (undici)
// costs more than a whole `berth tenant list` may take.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { EXIT, fail } from './exit.js';

const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;

export interface Api {
  /** BERTH_URL without its trailing slash. */
  base: string;
  token: string;
  /** Extra trusted CAs (PEM) for an https BERTH_URL: scripts/berth moves NODE_EXTRA_CA_CERTS here. */
  extraCaFile?: string;
}

/** The API's address and token from the environment, checked; exit 2 when unusable. */
export function apiFromEnv(env: NodeJS.ProcessEnv = process.env): Api {
  const base = (env.BERTH_URL || 'http://127.0.0.1:7300').replace(/\/$/, '');
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(base)) fail(EXIT.usage, 'BAD_URL', `BERTH_URL must be http(s)://host[:port][/prefix], got "${base}"`);
  const token = env.BERTH_TOKEN ?? '';
  if (!token) {
    fail(EXIT.usage, 'NO_TOKEN', 'BERTH_TOKEN is not set: export BERTH_TOKEN=<token>; an admin makes one with "berth token create --name NAME --scope read|write|admin" (on the host: berth admin token create ...; scripts/platform-up prints the first admin token)');
  }
  // A newline would smuggle extra headers into the request; a token is one printable word.
  if (!/^[\x21-\x7e]+$/.test(token)) fail(EXIT.usage, 'NO_TOKEN', 'BERTH_TOKEN holds spaces or control characters; tokens look like berth_<id>_<secret>');
  return { base, token, extraCaFile: env.BERTH_EXTRA_CA_CERTS || undefined };
}

/** A path segment, encoded: "a/../b" cannot reach another route. */
export const seg = (s: string): string => encodeURIComponent(s);

/** METHOD PATH [BODY] → the answer's JSON (null when empty); exit 1 on a refusal, 3 with no answer. */
export async function call<T = unknown>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(api, method, path, body, REQUEST_TIMEOUT_MS);
  const text = await readAll(api, res);
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) apiError(status, text);
  if (text.trim() === '') return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return badResponse(api, `HTTP ${status} without JSON`);
  }
}

/** GET PATH as a stream, past a 2xx status; exit 1 on a refusal. Throws a TransportError with no answer. */
export async function stream(api: Api, path: string, maxMs?: number): Promise<IncomingMessage> {
  const res = await send(api, 'GET', path, undefined, maxMs);
  const status = res.statusCode ?? 0;
  if (status >= 200 && status <= 299) return res;
  return apiError(status, await readAll(api, res));
}

/** No answer, or an answer cut off: the caller decides whether to retry. */
export class TransportError extends Error {
  constructor(readonly reason: string, readonly detail: string) {
    super(reason);
  }
}

export function unreachable(api: Api, err: unknown): never {
  const e = err instanceof TransportError ? err : transportError(err);
  fail(EXIT.unreachable, 'UNREACHABLE', `cannot reach the Berth API at ${api.base}: ${e.reason} (${e.detail}); is the orchestrator running and BERTH_URL right?`);
}

/** The API answered, but not as this CLI expects (another service at BERTH_URL, another API version). */
export function badResponse(api: Api, why: string): never {
  fail(EXIT.api, 'BAD_RESPONSE', `unexpected answer from ${api.base} (${why}); is BERTH_URL a Berth API of this version?`);
}

/** The API's {"error":{code,message}} as one line; exit 1. */
function apiError(status: number, text: string): never {
  let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const code = parsed?.error?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) {
    const message = parsed?.error?.message;
    fail(EXIT.api, code, message === undefined || message === null || message === '' ? `HTTP ${status}` : String(message));
  }
  const squashed = text.replace(/\s+/g, ' ').slice(0, 200);
  fail(EXIT.api, `HTTP_${status}`, `the API answered HTTP ${status}${squashed ? `: ${squashed}` : ''}`);
}

async function send(api: Api, method: string, path: string, body: unknown, maxMs: number | undefined): Promise<IncomingMessage> {
  const url = new URL(api.base + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${api.token}` };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const options: RequestOptions = { method, headers };
  const tlsUrl = url.protocol === 'https:';
  if (tlsUrl && api.extraCaFile) options.ca = await trustedCas(api.extraCaFile);
  const lib = tlsUrl ? (await import('node:https')).default : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, options, (res) => {
      clearTimeout(connectTimer);
      resolve(res);
    });
    const abort = (reason: string) => req.destroy(new TransportError(reason, 'no answer in time'));
    const connectTimer = setTimeout(() => abort('timed out'), CONNECT_TIMEOUT_MS);
    // A kept-alive socket (Node's default agent) is connected already and never says 'connect' again: a listener on it would stay for good, one per request.
    req.on('socket', (socket) => (socket.connecting ? socket.once('connect', () => clearTimeout(connectTimer)) : clearTimeout(connectTimer)));
    if (maxMs !== undefined) {
      const overall = setTimeout(() => abort('timed out'), maxMs);
      overall.unref();
      req.on('close', () => clearTimeout(overall));
    }
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(transportError(err));
    });
    req.end(payload);
  }).catch((err: unknown) => unreachable(api, err)) as Promise<IncomingMessage>;
}

/** Node's own roots plus the extra file, as NODE_EXTRA_CA_CERTS would have made them. */
async function trustedCas(file: string): Promise<string[]> {
  const { rootCertificates } = await import('node:tls');
  let extra: string;
  try {
    extra = readFileSync(file, 'utf8');
  } catch (err) {
    fail(EXIT.usage, 'BAD_CA_FILE', `cannot read the extra CA certificates in ${file} (NODE_EXTRA_CA_CERTS): ${(err as Error).message}; point it at a readable PEM file or unset it`);
  }
  return [...rootCertificates, extra];
}

function readAll(api: Api, res: IncomingMessage): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve(text));
    res.on('error', (err) => reject(transportError(err, true)));
    res.on('close', () => res.complete || reject(new TransportError('the connection broke mid-response', 'incomplete')));
  }).catch((err: unknown) => unreachable(api, err));
}

export function transportError(err: unknown, midResponse = false): TransportError {
  if (err instanceof TransportError) return err;
  const code = String((err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? err);
  const reason =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'could not resolve the host'
    : code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? 'could not connect (refused or unreachable)'
    : code === 'ETIMEDOUT' ? 'timed out'
    : /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code) ? 'TLS handshake or certificate problem'
    : midResponse ? 'the connection broke mid-response'
    : code === 'ECONNRESET' ? 'the server closed the connection without answering'
    : 'the request failed';
  return new TransportError(reason, code);
}
