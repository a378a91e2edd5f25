// TLS at the edge (BERTH_TLS_*, BERTH_HTTPS_PORT, the console's and the API's
// public host names), validated with the rest of the platform configuration in
// config.ts. scripts/nginx-edge renders nginx from the same settings and checks
// them the same way (it runs before the orchestrator is built); the
// certificate files themselves are checked there, where nginx reads them.
import { BerthError } from '../errors.js';
import { RESERVED_SLUGS } from '../contract/reserved.js';

export const TLS_MODES = ['off', 'local-ca', 'cert'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export interface TlsConfig {
  /** off: HTTP only; local-ca: a certificate from Berth's own CA (development); cert: the operator's. */
  mode: TlsMode;
  httpsPort: number;
  /** The operator's certificate chain and key (cert mode); empty otherwise. */
  certFile: string;
  keyFile: string;
  /** Public host names nginx serves the console and the API under (with TLS on). */
  consoleHost: string;
  apiHost: string;
}

interface Read {
  get(name: string): string;
  optional(name: string): string;
  int(name: string, min: number, max: number): number;
}

// A DNS name of lowercase labels: it is written into nginx's configuration and
// openssl's arguments, so nothing else (spaces, ';', '{', quotes) may pass.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);

/** The problem with a host-name setting, or undefined. Capped before the pattern runs. */
export function hostNameProblem(name: string, value: string): string | undefined {
  if (value.length > 253) return `${name} must be a DNS name of at most 253 characters, got ${value.length} characters`;
  if (!HOST_NAME.test(value)) {
    return `${name} must be a lowercase DNS name like console.example.com (letters, digits, - and dots), got "${value.slice(0, 80)}"`;
  }
  return undefined;
}

export function readTlsConfig(read: Read, baseDomain: string): TlsConfig {
  const mode = read.get('BERTH_TLS_MODE');
  if (!(TLS_MODES as readonly string[]).includes(mode)) {
    throw new BerthError('CONFIG_INVALID', `BERTH_TLS_MODE must be one of ${TLS_MODES.join(', ')}, got "${mode.slice(0, 40)}"`);
  }
  const hosts: Record<string, string> = {};
  for (const name of ['BERTH_BASE_DOMAIN', 'BERTH_CONSOLE_HOST', 'BERTH_API_PUBLIC_HOST']) {
    const value = name === 'BERTH_BASE_DOMAIN' ? baseDomain : read.get(name);
    const problem = hostNameProblem(name, value);
    if (problem) throw new BerthError('CONFIG_INVALID', problem);
    hosts[name] = value;
  }
  for (const name of ['BERTH_CONSOLE_HOST', 'BERTH_API_PUBLIC_HOST']) {
    const host = hosts[name]!;
    // <label>.<domain> is a team's address unless no team may take that label.
    if (host === baseDomain) throw new BerthError('CONFIG_INVALID', `${name} must not be BERTH_BASE_DOMAIN itself ("${baseDomain}")`);
    if (host.endsWith(`.${baseDomain}`)) {
      const label = host.slice(0, -baseDomain.length - 1);
      if (label.includes('.') || !RESERVED_SLUGS.has(label)) {
        throw new BerthError('CONFIG_INVALID', `${name} "${host}" is under BERTH_BASE_DOMAIN, so a team could be given it: use a reserved name (${[...RESERVED_SLUGS].slice(0, 3).join(', ')}, ...).${baseDomain} or a name outside the domain`);
      }
    }
  }
  if (hosts.BERTH_CONSOLE_HOST === hosts.BERTH_API_PUBLIC_HOST) {
    throw new BerthError('CONFIG_INVALID', 'BERTH_CONSOLE_HOST and BERTH_API_PUBLIC_HOST must differ');
  }
  const certFile = read.optional('BERTH_TLS_CERT');
  const keyFile = read.optional('BERTH_TLS_KEY');
  if (mode === 'cert') {
    for (const [name, file] of [['BERTH_TLS_CERT', certFile], ['BERTH_TLS_KEY', keyFile]] as const) {
      if (!file.startsWith('/') || file.length > 1024 || /[\s;{}"'$\\]/.test(file)) {
        throw new BerthError('CONFIG_INVALID', `BERTH_TLS_MODE=cert needs ${name}: an absolute path to a PEM file, without spaces or ; { } " ' $ \\, got "${file.slice(0, 80)}"`);
      }
    }
  }
  return {
    mode: mode as TlsMode,
    httpsPort: read.int('BERTH_HTTPS_PORT', 1, 65535),
    certFile,
    keyFile,
    consoleHost: hosts.BERTH_CONSOLE_HOST!,
    apiHost: hosts.BERTH_API_PUBLIC_HOST!
  };
}

/** `https` when nginx terminates TLS, else `http`: the scheme every public URL Berth hands out uses. */
export function publicScheme(tls: Pick<TlsConfig, 'mode'>): 'http' | 'https' {
  return tls.mode === 'off' ? 'http' : 'https';
}

/** scheme://host[:port], the port left out when it is the scheme's default. */
export function publicOrigin(tls: Pick<TlsConfig, 'mode' | 'httpsPort'>, httpPort: number, host: string): string {
  const scheme = publicScheme(tls);
  const port = scheme === 'https' ? tls.httpsPort : httpPort;
  return `${scheme}://${host}${port === (scheme === 'https' ? 443 : 80) ? '' : `:${port}`}`;
}
