import type { OperatorBrief } from '$contract';

declare global {
  namespace App {
    interface Error {
      message: string;
      code?: string;
    }
    interface Locals {
      /** The signed-in operator, resolved from the berth_session cookie by hooks.server.ts. */
      operator: OperatorBrief | null;
      /** The operator's session token, for API calls made on their behalf. Never sent to the browser. */
      session: string | null;
      /** What the API lets this session do (read ⊂ write ⊂ admin); the console hides what it would refuse. */
      scope: 'read' | 'write' | 'admin' | null;
    }
  }
}
export {};
