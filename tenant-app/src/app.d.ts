import type { Member } from '$lib/server/members/members.types';
import type { SessionDoc } from '$lib/server/sessions/sessions.types';

declare global {
  namespace App {
    interface Locals {
      member: Member | null;
      session: SessionDoc | null;
    }
    interface Error {
      message: string;
    }
  }
}
export {};
