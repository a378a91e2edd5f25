// berth versions: the tenant-app versions on the platform's host.
import { parseArgs } from './args.js';
import type { VersionList } from './api-types.js';
import { apiFromEnv, call } from './http.js';
import { json, out, table } from './output.js';

const HELP = `Usage: berth versions [--json]

Lists the tenant-app versions on the platform's host (image tags), newest
first: VERSION TENANTS DEFAULT CREATED. scripts/build-images --only app
--app-version X makes a new one.`;

export async function versionsMain(argv: readonly string[]): Promise<void> {
  const a = parseArgs({ cmd: 'versions', help: HELP, switches: ['--json'] }, argv);
  const api = apiFromEnv();
  const body = await call<VersionList>(api, 'GET', '/api/v1/versions');
  if (a.has('--json')) return json(body);
  out(table([['VERSION', 'TENANTS', 'DEFAULT', 'CREATED'], ...body.versions.map((v) => [v.version, v.tenants, v.default ? 'yes' : '', v.createdAt])]));
}
