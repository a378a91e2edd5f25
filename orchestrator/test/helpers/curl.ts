// curl as a visitor's client over real TLS: it verifies nginx's certificate
// against the CA given (never -k), reaching a public host name on 127.0.0.1
// through --resolve. argv array, no shell.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CurlAnswer {
  status: number;
  /** Header names lowercased; the last value of a repeated header. */
  headers: Record<string, string>;
  /** Every Set-Cookie line, whole (flags included). */
  cookies: string[];
  body: string;
}

export async function curl(url: string, options: { cacert?: string; method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<CurlAnswer> {
  const { hostname, port, protocol } = new URL(url);
  const args = ['-sS', '--max-time', '20', '-D', '-', '--resolve', `${hostname}:${port || (protocol === 'https:' ? 443 : 80)}:127.0.0.1`];
  if (options.cacert) args.push('--cacert', options.cacert);
  if (options.method) args.push('-X', options.method);
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  for (const [name, value] of Object.entries(options.form ?? {})) args.push('--data-urlencode', `${name}=${value}`);
  args.push(url);
  const { stdout } = await run('curl', args, { maxBuffer: 16 << 20 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = value;
    if (name === 'set-cookie') cookies.push(value);
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, cookies, body: stdout.slice(split + 4) };
}
