// The onboarding domain wired together, once, for the platform: keys derived
// from the platform key, the mailer (the configured SMTP server, else the
// local sink), the captcha, the sign-ups and the service.
import type { Db } from 'mongodb';
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import { Captcha } from './captcha.js';
import { CapturedMailsRepository } from './captured-mails.repository.js';
import { MailSink } from './mail-sink.js';
import { SmtpMailer } from './mailer.js';
import { SignupsRepository } from './onboarding.repository.js';
import { OnboardingService, type OnboardingTenants } from './onboarding.service.js';
import { CodeHasher } from './secrets.js';
import { TeamQuotaRepository } from './team-quota.repository.js';

/** New teams get this template (TenantsService.create's default). */
export const ONBOARDING_TEMPLATE = 'tenant';

export interface OnboardingModule {
  service: OnboardingService;
  captcha: Captcha;
  mails: CapturedMailsRepository;
  /** Running only when no SMTP server is configured for onboarding. */
  sink?: MailSink;
  init(): Promise<void>;
  close(): Promise<void>;
}

export interface OnboardingModuleDeps {
  db: Db;
  config: PlatformConfig;
  box: SecretBox;
  tenants: OnboardingTenants;
  events: EventBus;
  templates: Map<string, LoadedTemplate>;
  log: Logger;
  clock?: () => Date;
}

export function createOnboardingModule(deps: OnboardingModuleDeps): OnboardingModule {
  const o = deps.config.onboarding;
  const clock = deps.clock ?? (() => new Date());
  const template = deps.templates.get(ONBOARDING_TEMPLATE);
  if (!template) throw new BerthError('CONFIG_INVALID', `onboarding needs the "${ONBOARDING_TEMPLATE}" template in ${deps.config.templatesDir}`);
  const mails = new CapturedMailsRepository(deps.db, o.sink.keep, clock);
  const sink = o.enabled && !o.smtpUrl ? new MailSink(mails, deps.log) : undefined;
  const signups = new SignupsRepository(deps.db);
  const captcha = new Captcha(deps.db, { key: deps.box.derive('onboarding', 'altcha-hmac'), ...o.captcha, clock });
  // The sink's port is known only once it listens, so the mailer reads the URL per send.
  const mailer = { send: (mail: Parameters<SmtpMailer['send']>[0]) => new SmtpMailer({ url: o.smtpUrl ?? sink!.url, from: o.mailFrom, timeoutMs: o.mailTimeoutMs }, deps.log).send(mail) };
  const service = new OnboardingService({
    config: o, signups, quota: new TeamQuotaRepository(deps.db), captcha, mailer, hasher: new CodeHasher(deps.box.derive('onboarding', 'code-hmac')),
    tenants: deps.tenants, events: deps.events, template, log: deps.log, clock
  });
  return {
    service, captcha, mails, sink,
    async init() {
      await Promise.all([signups.init(), captcha.init(), mails.init()]);
      await sink?.start(o.sink.port);
    },
    async close() {
      await sink?.stop();
    }
  };
}
