// The sign-up flow: captcha + email → a 6-digit code by mail → the code →
// team name and plan → TenantsService.create with the verified email as the
// owner. Provisioning runs in the engine, not in a request: closing the tab
// changes nothing, and the sign-up's status is read fresh from the registry
// and the event history whenever it is asked for.
import type { OnboardingConfig } from '../config/onboarding.config.js';
import { BerthError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { TenantStacks } from '../tenants/tenant-stacks.js';
import type { TenantViews } from '../tenants/tenant-views.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { Captcha } from './captcha.js';
import { emailLimitKey } from './email-key.js';
import type { Mailer } from './mailer.js';
import type { SignupDoc, SignupsRepository } from './onboarding.repository.js';
import type { OnboardingQuota, SignupView, SlugCheck } from './onboarding.schema.js';
import { failureMessage, operationDone, progressEvent } from './provisioning.js';
import { newCode, newSignupToken, signupId, type CodeHasher } from './secrets.js';
import { alternatives, slugAdvice, suggestSlug } from './slug-advice.js';
import { nextUtcDay, utcDay, type TeamQuotaRepository } from './team-quota.repository.js';

/** What onboarding asks of the tenants domain. */
export interface OnboardingTenants {
  commands: Pick<TenantsService, 'create' | 'delete'>;
  views: Pick<TenantViews, 'get' | 'slugFree' | 'ownerSetupUrl'>;
  stacks: Pick<TenantStacks, 'publicUrl'>;
}

export interface OnboardingDeps {
  config: OnboardingConfig;
  signups: SignupsRepository;
  /** The platform-wide count of self-service teams per day. */
  quota: TeamQuotaRepository;
  captcha: Captcha;
  mailer: Mailer;
  hasher: CodeHasher;
  tenants: OnboardingTenants;
  events: EventBus;
  /** The template new teams get (its plans are the choice offered). */
  template: LoadedTemplate;
  log: Logger;
  clock: () => Date;
}

const DELETE_TIMEOUT_MS = 60_000;
export const PAUSED_MESSAGE = 'Sign-ups are paused for today; please try again later.';
/** A create the host had no room for: the sign-up keeps its email and name, and the visitor tries again. */
export const FULL_MESSAGE = 'The platform is full right now and cannot make your team. Your sign-up is kept: please try again in a few minutes.';
const FULL_RETRY_SECONDS = 300;

/** Where the daily cap on self-service teams stands. */
/** Where the slug goes in the `address` pattern of the team step. */
const SLUG_MARK = '{slug}';

export class OnboardingService {
  constructor(private readonly d: OnboardingDeps) {}

  private get now(): Date {
    return this.d.clock();
  }

  /**
   * One answer for every address, known or not: a new sign-up and a code on
   * its way. `ip` is the client's limit key (an IPv6 address by its /64).
   */
  async start(input: { email: string; captcha?: string; ip: string }): Promise<{ token: string; signup: SignupView }> {
    const now = this.now;
    // Before the captcha is spent and a code mailed: no team could be made today anyway.
    await this.assertNotPaused(now);
    await this.d.captcha.consume(input.captcha);
    const email = input.email.trim().toLowerCase();
    const emailKey = emailLimitKey(email);
    const ip = this.d.hasher.address(input.ip);
    if ((await this.d.signups.startedToday({ ip }, now)) >= this.d.config.perDay.ip) {
      throw new BerthError('SIGNUP_LIMIT', `this network started ${this.d.config.perDay.ip} sign-ups in the last 24 hours, the most allowed; try again tomorrow`);
    }
    if ((await this.d.signups.startedToday({ emailKey }, now)) >= this.d.config.perDay.email) {
      throw new BerthError('SIGNUP_LIMIT', `this email address was used for ${this.d.config.perDay.email} sign-ups in the last 24 hours, the most allowed; try again tomorrow`, { field: 'email' });
    }
    const token = newSignupToken();
    const id = signupId(token)!;
    const code = newCode();
    await this.d.signups.insert({
      _id: id, email, emailKey, ip, step: 'code', code: this.codeRecord(id, code, now), sends: 1, attempts: 0,
      createdAt: now, expiresAt: new Date(now.getTime() + this.d.config.signupTtlMs)
    });
    try {
      await this.mailCode(email, code);
    } catch (err) {
      await this.d.signups.remove(id); // nothing was sent: it must not count, nor wait for a code
      throw err;
    }
    this.d.log.info({ signup: id.slice(0, 8) }, 'sign-up started');
    return { token, signup: await this.status(token) };
  }

  async resend(token: string | undefined): Promise<SignupView> {
    const doc = await this.atStep(token, 'code');
    const { resendIntervalMs, sends } = this.d.config.code;
    if (doc.sends >= sends) throw new BerthError('RESEND_TOO_SOON', `${sends} codes were sent for this sign-up, the most allowed; start again with a new sign-up`);
    const wait = (doc.code?.sentAt.getTime() ?? 0) + resendIntervalMs - this.now.getTime();
    if (wait > 0) throw new BerthError('RESEND_TOO_SOON', `a code was sent moments ago; you can ask for another in ${Math.ceil(wait / 1000)} s`, { retryAfterSeconds: Math.ceil(wait / 1000) });
    const code = newCode();
    if (!(await this.d.signups.setCode(doc._id, this.codeRecord(doc._id, code, this.now)))) throw this.wrongStep('code', 'team');
    await this.mailCode(doc.email, code);
    return this.status(token);
  }

  async verify(token: string | undefined, code: string): Promise<SignupView> {
    const doc = await this.atStep(token, 'code');
    if (!doc.code || doc.code.expiresAt <= this.now) {
      throw new BerthError('CODE_EXPIRED', `the code expired (codes are valid ${Math.round(this.d.config.code.ttlMs / 60_000)} minutes); ask for a new one`, { field: 'code' });
    }
    const max = this.d.config.code.attempts;
    const counted = await this.d.signups.countAttempt(doc._id, max);
    if (!counted) return this.locked(doc._id);
    if (this.d.hasher.matches(doc._id, code, doc.code.hash) && (await this.d.signups.markVerified(doc._id, doc.code.hash, this.now))) {
      this.d.log.info({ signup: doc._id.slice(0, 8) }, 'sign-up email verified');
      return this.status(token);
    }
    const left = max - counted.attempts;
    if (left <= 0) return this.locked(doc._id);
    throw new BerthError('CODE_INVALID', `that is not the code we sent; ${left} ${left === 1 ? 'try' : 'tries'} left`, { field: 'code' });
  }

  /** As the name is typed: the suggested or typed slug, whether it is free, and why not in words. */
  async checkSlug(token: string | undefined, input: { name?: string; slug?: string }): Promise<SlugCheck> {
    await this.atStep(token, 'team');
    const slug = input.slug ?? suggestSlug(input.name ?? '');
    const advice = slugAdvice(slug);
    if (advice) return { slug, available: false, reason: advice.reason, message: advice.message, suggestion: await this.freeAlternative(slug) };
    if (await this.d.tenants.views.slugFree(slug)) return { slug, available: true };
    return { slug, available: false, reason: 'taken', message: `"${slug}" is taken by another team.`, suggestion: await this.freeAlternative(slug) };
  }

  async createTeam(token: string | undefined, input: { displayName: string; slug: string; plan: string }): Promise<SignupView> {
    const doc = await this.atStep(token, 'team');
    const displayName = input.displayName.trim();
    if (displayName.length < 2 || /[\p{Cc}]/u.test(displayName)) {
      throw new BerthError('VALIDATION_FAILED', 'the team name needs at least 2 characters (no control characters)', { field: 'displayName' });
    }
    const plans = this.d.template.template['x-berth'].plans;
    if (!plans[input.plan]) throw new BerthError('PLAN_UNKNOWN', `there is no plan "${input.plan}"; choose one of: ${Object.keys(plans).join(', ')}`, { field: 'plan' });
    const check = await this.checkSlug(token, { slug: input.slug });
    if (!check.available) throw this.slugRefused(check);
    const team = { slug: input.slug, displayName, plan: input.plan, operationId: '', startedAt: this.now };
    await this.takeQuota(team.startedAt);
    if (!(await this.d.signups.claimTeam(doc._id, team))) {
      await this.d.quota.release(utcDay(team.startedAt));
      throw this.wrongStep('team', 'provisioning');
    }
    await this.launch(doc, team);
    return this.status(token);
  }

  /** For operators: today's self-service teams against the cap. */
  async quotaToday(): Promise<OnboardingQuota> {
    const now = this.now;
    const teamsToday = await this.d.quota.count(utcDay(now));
    const teamsPerDay = this.d.config.perDay.teams;
    return { teamsToday, teamsPerDay, paused: teamsToday >= teamsPerDay, resumesAt: nextUtcDay(now).toISOString() };
  }

  /**
   * After a failed create (rolled back: no container, network or volume
   * left), start again from scratch: delete the failed record, create anew.
   */
  async retry(token: string | undefined): Promise<SignupView> {
    const doc = await this.atStep(token, 'provisioning');
    const team = doc.team!;
    const tenant = await this.d.tenants.views.get(team.slug).catch((err: unknown) => (err instanceof BerthError && err.code === 'TENANT_NOT_FOUND' ? null : Promise.reject(err)));
    if (tenant && (tenant.phase !== 'failed' || tenant.operation)) {
      throw new BerthError('SIGNUP_STEP', `your team is ${tenant.operation ? `busy (${tenant.operation.kind})` : tenant.phase}, not failed: there is nothing to retry`);
    }
    if (tenant) {
      const { operation } = await this.d.tenants.commands.delete(team.slug, { deleteData: true, confirm: team.slug });
      await operationDone(this.d.events, operation.id, DELETE_TIMEOUT_MS);
    }
    await this.launch(doc, { ...team, startedAt: this.now }, false);
    return this.status(token);
  }

  /** Where the sign-up stands, read fresh: the page shows this on every visit. */
  async status(token: string | undefined): Promise<SignupView> {
    const doc = await this.mustGet(token);
    const base = { email: doc.email, expiresAt: doc.expiresAt.toISOString() };
    if (doc.step === 'locked') return { ...base, step: 'locked' };
    if (doc.step === 'code') {
      const { attempts, resendIntervalMs, sends } = this.d.config.code;
      const sentAt = doc.code?.sentAt.getTime() ?? 0;
      return {
        ...base, step: 'code',
        code: { expiresAt: (doc.code?.expiresAt ?? this.now).toISOString(), resendAt: new Date(sentAt + resendIntervalMs).toISOString(), sendsLeft: Math.max(0, sends - doc.sends), attemptsLeft: Math.max(0, attempts - doc.attempts) }
      };
    }
    if (doc.step === 'team') return { ...base, step: 'team', plans: this.plans(), address: this.d.tenants.stacks.publicUrl(SLUG_MARK) };
    return { ...base, ...(await this.teamStatus(doc.team!)) };
  }

  /** The slug whose events the sign-up's socket carries: only its own team's. */
  async eventsScope(token: string | undefined): Promise<string> {
    return (await this.atStep(token, 'provisioning')).team!.slug;
  }

  // ---- internals --------------------------------------------------------

  private paused(now: Date): BerthError {
    const seconds = Math.max(1, Math.ceil((nextUtcDay(now).getTime() - now.getTime()) / 1000));
    return new BerthError('SIGNUPS_PAUSED', PAUSED_MESSAGE, { retryAfterSeconds: seconds });
  }

  private async assertNotPaused(now: Date): Promise<void> {
    if ((await this.d.quota.count(utcDay(now))) >= this.d.config.perDay.teams) throw this.paused(now);
  }

  /** Counts one self-service team today; the one that fills the day tells the operators. */
  private async takeQuota(now: Date): Promise<void> {
    const max = this.d.config.perDay.teams;
    const count = await this.d.quota.take(utcDay(now), max);
    if (count === null) throw this.paused(now);
    if (count < max) return;
    this.d.log.warn({ teamsPerDay: max }, 'self-service sign-ups paused until the next UTC day: the daily cap on new teams is reached');
    await this.d.events.publish({ type: 'onboarding.paused', data: { teamsToday: count, teamsPerDay: max, resumesAt: nextUtcDay(now).toISOString() } });
  }

  private async teamStatus(team: SignupDoc['team'] & object): Promise<Pick<SignupView, 'step' | 'team'>> {
    const tenant = await this.d.tenants.views.get(team.slug).catch((err: unknown) => (err instanceof BerthError && err.code === 'TENANT_NOT_FOUND' ? null : Promise.reject(err)));
    const history = team.operationId ? await this.d.events.history({ operation: team.operationId }, 500) : [];
    const view = {
      slug: team.slug, displayName: team.displayName, plan: team.plan, operationId: team.operationId,
      events: history.flatMap((e) => progressEvent(e) ?? [])
    };
    if (!tenant) return { step: 'failed', team: { ...view, error: { code: 'TEAM_GONE', message: failureMessage('TEAM_GONE') } } };
    const withTenant = { ...view, phase: tenant.phase, url: tenant.url };
    if (tenant.operation || tenant.phase === 'provisioning') return { step: 'provisioning', team: withTenant };
    if (tenant.phase === 'failed') {
      const code = tenant.lastError?.code ?? 'INTERNAL';
      return { step: 'failed', team: { ...withTenant, error: { code, message: failureMessage(code) } } };
    }
    return { step: 'ready', team: { ...withTenant, setupUrl: await this.d.tenants.views.ownerSetupUrl(team.slug) } };
  }

  private async launch(doc: SignupDoc, team: NonNullable<SignupDoc['team']>, releaseOnRefusal = true): Promise<void> {
    try {
      const { operation } = await this.d.tenants.commands.create({ slug: team.slug, displayName: team.displayName, plan: team.plan, ownerEmail: doc.email, template: this.d.template.name });
      await this.d.signups.setOperation(doc._id, operation.id);
      this.d.log.info({ signup: doc._id.slice(0, 8), tenant: team.slug, operation: operation.id }, 'sign-up provisioning its team');
    } catch (err) {
      if (releaseOnRefusal) {
        await this.d.signups.releaseTeam(doc._id);
        await this.d.quota.release(utcDay(team.startedAt));
      }
      if (err instanceof BerthError && (err.code === 'TENANT_EXISTS' || err.code === 'TENANT_DATA_EXISTS')) {
        throw this.slugRefused({ slug: team.slug, available: false, reason: 'taken', message: `"${team.slug}" was just taken by another team.`, suggestion: await this.freeAlternative(team.slug) });
      }
      // The host's figures went to the operators (the capacity.refused event); the visitor is told what to do.
      if (err instanceof BerthError && err.code === 'CAPACITY') throw new BerthError('CAPACITY', FULL_MESSAGE, { retryAfterSeconds: FULL_RETRY_SECONDS });
      throw err;
    }
  }

  private slugRefused(check: SlugCheck): BerthError {
    const code = check.reason === 'taken' ? 'SLUG_TAKEN' : check.reason === 'reserved' ? 'SLUG_RESERVED' : 'SLUG_INVALID';
    const hint = check.suggestion ? ` "${check.suggestion}" is free.` : '';
    return new BerthError(code, `${check.message}${hint}`, { field: 'slug', suggestion: check.suggestion });
  }

  private async freeAlternative(slug: string): Promise<string | undefined> {
    for (const candidate of alternatives(slug)) {
      if (!slugAdvice(candidate) && (await this.d.tenants.views.slugFree(candidate))) return candidate;
    }
    return undefined;
  }

  private plans(): NonNullable<SignupView['plans']> {
    const x = this.d.template.template['x-berth'];
    return Object.entries(x.plans).map(([name, plan]) => ({ name, description: plan.description ?? name, default: name === x.default_plan }));
  }

  private codeRecord(id: string, code: string, now: Date): NonNullable<SignupDoc['code']> {
    return { hash: this.d.hasher.hash(id, code), expiresAt: new Date(now.getTime() + this.d.config.code.ttlMs), sentAt: now };
  }

  private mailCode(to: string, code: string): Promise<void> {
    const minutes = Math.round(this.d.config.code.ttlMs / 60_000);
    return this.d.mailer.send({
      to,
      subject: 'Your Berth sign-up code',
      text: `Your code to create a team on Berth:\n\n    ${code}\n\nType it on the sign-up page. It is valid for ${minutes} minutes and works once.\nIf you did not ask for it, ignore this mail: nothing happens without the code.\n`
    });
  }

  private async locked(id: string): Promise<never> {
    await this.d.signups.lock(id);
    throw new BerthError('SIGNUP_LOCKED', `${this.d.config.code.attempts} wrong codes: this sign-up is locked. Start again with a new sign-up.`, { field: 'code' });
  }

  private async mustGet(token: string | undefined): Promise<SignupDoc> {
    const id = signupId(token);
    const doc = id ? await this.d.signups.live(id, this.now) : null;
    if (!doc) throw new BerthError('SIGNUP_UNKNOWN', 'this sign-up is unknown or has expired; start again');
    return doc;
  }

  private async atStep(token: string | undefined, step: SignupDoc['step']): Promise<SignupDoc> {
    const doc = await this.mustGet(token);
    if (doc.step === 'locked' && step === 'code') {
      throw new BerthError('SIGNUP_LOCKED', `${this.d.config.code.attempts} wrong codes: this sign-up is locked. Start again with a new sign-up.`, { field: 'code' });
    }
    if (doc.step !== step) throw this.wrongStep(step, doc.step);
    return doc;
  }

  private wrongStep(wanted: string, actual: string): BerthError {
    return new BerthError('SIGNUP_STEP', `this sign-up is at the "${actual}" step, not "${wanted}"; reload the page`);
  }
}
