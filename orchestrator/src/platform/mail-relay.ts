// Builds and starts the mail relay when the platform has an SMTP server to
// forward to, on the address containers reach the host by (host-gateway).
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../log.js';
import { MailRelay } from '../mail-relay/mail-relay.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { TenantsRepository } from '../tenants/tenants.repository.js';

export async function startMailRelay(config: PlatformConfig, runtime: ContainerRuntime, box: SecretBox, repo: TenantsRepository, log: Logger): Promise<MailRelay | undefined> {
  const { smtpUrl, from, port, perHour } = config.mailRelay;
  if (!smtpUrl) return undefined;
  const relay = new MailRelay({
    forwardUrl: smtpUrl,
    from,
    host: await runtime.hostGatewayAddress(),
    port,
    perHour,
    box,
    isTenant: async (slug) => (await repo.get(slug)) !== null,
    log
  });
  await relay.start();
  return relay;
}
