// The operators domain wired together, once, for the platform (and for tests
// that want their own clock).
import type { Db } from 'mongodb';
import type { SecretBox } from '../crypto/secret-box.js';
import { OperatorsRepository } from './operators.repository.js';
import { OperatorsService } from './operators.service.js';
import { SessionsService } from './sessions.service.js';
import { SignInService } from './sign-in.service.js';
import { Totp } from './totp.js';

export interface OperatorsModule {
  repo: OperatorsRepository;
  sessions: SessionsService;
  operators: OperatorsService;
  signIn: SignInService;
  totp: Totp;
  init(): Promise<void>;
}

export function createOperatorsModule(deps: { db: Db; box: SecretBox; consoleUrl: string; clock?: () => Date }): OperatorsModule {
  const clock = deps.clock ?? (() => new Date());
  const repo = new OperatorsRepository(deps.db);
  const sessions = new SessionsService(deps.db, repo, clock);
  const totp = new Totp(clock);
  const operators = new OperatorsService({ repo, sessions, box: deps.box, totp, clock, consoleUrl: deps.consoleUrl });
  const signIn = new SignInService({ repo, operators, sessions, totp, clock });
  return {
    repo, sessions, operators, signIn, totp,
    async init() {
      await Promise.all([repo.init(), sessions.init()]);
    }
  };
}
