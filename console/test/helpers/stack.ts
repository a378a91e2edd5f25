// The console in front of a whole test orchestrator (its own platform
// database, nginx and Docker), the way the browser tests need it; and an
// operator signed in without the sign-in page (enrolled and given a session
// in-process; the sign-in page has its own test in console.browser.test.ts).
import type { AddressInfo } from 'node:net';
import { authenticator } from 'otplib';
import type { Browser, BrowserContext } from 'playwright-core';
import type { PlatformConfig } from '../../../orchestrator/src/config/config.js';
import { freePort } from '../../../orchestrator/test/helpers/nginx.js';
import { startTestPlatform, type TestPlatform } from '../../../orchestrator/test/helpers/platform.js';
import { requireConsoleBuild, startConsole, type RunningConsole } from './console.js';

export interface ConsoleStack {
  tp: TestPlatform;
  web: RunningConsole;
  apiUrl: string;
}

/** Checks the console's build while the platform starts (`prepare` runs on it before the console does), then starts the console against it. */
export async function startConsoleStack(tag: string, overrides: Partial<PlatformConfig> = {}, prepare: (tp: TestPlatform) => Promise<void> = async () => {}): Promise<ConsoleStack> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let tp!: TestPlatform;
  let apiUrl = '';
  await Promise.all([
    requireConsoleBuild(),
    (async () => {
      tp = await startTestPlatform(tag, { consoleUrl: origin, ...overrides });
      await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
      apiUrl = `http://127.0.0.1:${(tp.platform.app.server.address() as AddressInfo).port}`;
      await prepare(tp);
    })()
  ]);
  const web = await startConsole({ BERTH_API_URL: apiUrl, PORT: port, ORIGIN: origin });
  return { tp, web, apiUrl };
}

export async function operatorContext(browser: Browser, stack: ConsoleStack, who: { email: string; name: string }, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  const { operators, sessions } = stack.tp.platform.operators;
  const { setupUrl, operator } = await operators.bootstrap(who);
  const token = setupUrl.split('/setup/')[1]!;
  const { totpSecret } = await operators.setupStart(token);
  await operators.setupFinish({ token, password: 'correct horse battery', code: authenticator.generate(totpSecret) });
  const { session } = await sessions.create(operator.id);
  const context = await browser.newContext(options);
  await context.addCookies([{ name: 'berth_session', value: session, url: stack.web.url, httpOnly: true, sameSite: 'Strict' }]);
  return context;
}
