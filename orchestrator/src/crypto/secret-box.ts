// Per-tenant secrets are encrypted at rest with the platform key: AES-256-GCM,
// a fresh 96-bit nonce per value, the tenant slug bound in as associated data
// so a ciphertext copied onto another tenant fails to open.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../errors.js';

export interface Sealed {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the platform key must be 32 bytes');
  }

  seal(plain: object, context: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
    return { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  open<T>(sealed: Sealed, context: string): T {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as T;
    } catch (err) {
      throw new BerthError('CONFIG_INVALID', `cannot open the secrets of ${context}: they were sealed with another platform key (was BERTH_HOME/platform.key replaced, or BERTH_PLATFORM_KEY changed?)`, undefined, { cause: err });
    }
  }

  /**
   * A stable value for a secret a template added after the tenant was made:
   * derived from the platform key, so every render agrees without a write.
   */
  /** A 32-byte key for one purpose (e.g. "backup"), derived from the platform key: one key never serves two purposes. */
  keyFor(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`berth-key:${purpose}`).digest();
  }

  derive(context: string, name: string): string {
    return createHmac('sha256', this.key).update(`berth-secret:${context}:${name}`).digest('base64url').slice(0, 32);
  }
}

/** The key from BERTH_PLATFORM_KEY, else home/platform.key, made (0600) on first start. */
export async function loadPlatformKey(home: string, fromEnv?: string): Promise<Buffer> {
  if (fromEnv) return Buffer.from(fromEnv, 'hex');
  const file = path.join(home, 'platform.key');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(home, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx': never overwrite a key another process just wrote; losing it loses every secret.
  await writeFile(file, key.toString('hex'), { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
}
