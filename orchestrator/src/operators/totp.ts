// TOTP (RFC 6238) through otplib's authenticator preset: base32 secrets, six
// digits, 30 s steps, one step of drift either way. The clock is injected and
// handed to otplib as its epoch, so tests decide what time it is. verify()
// returns the time step a code belongs to: the caller stores the last one used
// and refuses that step and every earlier one (a code is good once).
import { authenticator } from 'otplib';

export const TOTP_STEP_SECONDS = 30;
const ISSUER = 'Berth';

export class Totp {
  constructor(private readonly clock: () => Date) {}

  private at(): typeof authenticator {
    return authenticator.clone({ epoch: this.clock().getTime(), step: TOTP_STEP_SECONDS, window: 1, digits: 6 });
  }

  generateSecret(): string {
    // 20 bytes = 160 bits, RFC 4226's recommended length.
    return authenticator.generateSecret(20);
  }

  otpauthUrl(account: string, secret: string): string {
    return authenticator.keyuri(account, ISSUER, secret);
  }

  /** The code for now (tests and tools). */
  generate(secret: string): string {
    return this.at().generate(secret);
  }

  /** The time step the code is valid for (now ±1 step), or null. */
  verify(code: string, secret: string): number | null {
    if (!/^[0-9]{6}$/.test(code)) return null;
    const delta = this.at().checkDelta(code, secret);
    if (delta === null) return null;
    return Math.floor(this.clock().getTime() / 1000 / TOTP_STEP_SECONDS) + delta;
  }
}
