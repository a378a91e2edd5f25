// Tenant-app versions for upgrade tests, made from the image scripts/build-images
// built: a good one is the same image under another tag (the version the app
// reports comes from APP_VERSION, which the template sets from the tenant's
// version), a broken one is a real image whose /healthz answers 503. Docker
// through argv arrays only, never a shell string.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { docker, config } from './docker.js';

export const appImage = (version: string) => `${config.images.appRepo}:${version}`;

/** A tag no other run uses, e.g. 0.1.0-up3f9a2c. */
export function testVersion(tag: string): string {
  return `${config.defaultAppVersion}-${tag}${randomBytes(3).toString('hex')}`;
}

/** The default image under another version tag. */
export async function tagVersion(version: string): Promise<string> {
  await docker('tag', appImage(config.defaultAppVersion), appImage(version));
  return version;
}

/**
 * An image FROM the default one whose server answers every request, /healthz
 * included, with 503: a release that starts but never turns healthy.
 */
export async function brokenVersion(version: string): Promise<string> {
  const dockerfile = [
    `FROM ${appImage(config.defaultAppVersion)}`,
    'LABEL berth.test=broken-healthz',
    `CMD ["node", "-e", "require('http').createServer((q, s) => { s.statusCode = 503; s.end('broken on purpose'); }).listen(3000)"]`,
    ''
  ].join('\n');
  await new Promise<void>((resolve, reject) => {
    // No context: the Dockerfile comes on stdin ("docker build -").
    const child = spawn('docker', ['build', '-q', '-t', appImage(version), '-'], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker build of ${appImage(version)} failed: ${stderr}`))));
    child.stdin.end(dockerfile);
  });
  return version;
}

export async function removeVersions(...versions: string[]): Promise<void> {
  for (const v of versions) await docker('rmi', appImage(v)).catch(() => undefined);
}
