// The operators domain wired together, once, for the platform (and for tests
// that want their own clock).
import type { Db } from 'mongodb';
import type { PlatformConfig } from '../config/config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { OperatorsRepository } from './operators.repository.js';
import { OperatorsService } from './operators.service.js';
import { SessionsService } from './sessions.service.js';
import { SignInFailuresRepository } from './sign-in-failures.repository.js';
import { SignInService } from './sign-in.service.js';
import { Totp } from './totp.js';

export interface OperatorsModule {
  repo: OperatorsRepository;
  sessions: SessionsService;
  operators: OperatorsService;
  signIn: SignInService;
  totp: Totp;
  /** Sign-in attempts allowed per client address (IPv6 by /64) per window, and whose X-Forwarded-For names the client. */
  signInLimit: SignInLimit;
  init(): Promise<void>;
}

export interface SignInLimit {
  perAddress: number;
  windowMs: number;
  trustedProxies: readonly string[];
}

export function signInLimitOf(config: PlatformConfig): SignInLimit {
  return { perAddress: config.operatorSignIn.perAddress, windowMs: config.operatorSignIn.windowMs, trustedProxies: config.onboarding.trustedProxies };
}

export function createOperatorsModule(deps: { db: Db; box: SecretBox; consoleUrl: string; signInLimit: SignInLimit; clock?: () => Date }): OperatorsModule {
  const clock = deps.clock ?? (() => new Date());
  const repo = new OperatorsRepository(deps.db);
  const failures = new SignInFailuresRepository(deps.db);
  const sessions = new SessionsService(deps.db, repo, clock);
  const totp = new Totp(clock);
  const operators = new OperatorsService({ repo, sessions, failures, box: deps.box, totp, clock, consoleUrl: deps.consoleUrl });
  const signIn = new SignInService({ repo, failures, operators, sessions, totp, clock });
  return {
    repo, sessions, operators, signIn, totp, signInLimit: deps.signInLimit,
    async init() {
      await Promise.all([repo.init(), failures.init(), sessions.init()]);
    }
  };
}
