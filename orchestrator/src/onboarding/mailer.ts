// The one outside effect "send a mail": nodemailer over SMTP, a transport per
// message (sign-up mail is rare; no pool to keep healthy), a deadline on the
// whole send, and the transport closed in `finally` whatever happened. The
// message text is never logged (it carries the code).
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

export interface SmtpOptions {
  /** smtp:// or smtps:// with user:pass@host:port and nodemailer options as query (e.g. ?requireTLS=true). */
  url: string;
  from: string;
  timeoutMs: number;
}

export class SmtpMailer implements Mailer {
  constructor(private readonly o: SmtpOptions, private readonly log: Logger) {}

  async send(mail: Mail): Promise<void> {
    const timeouts = { connectionTimeout: this.o.timeoutMs, greetingTimeout: this.o.timeoutMs, socketTimeout: this.o.timeoutMs };
    const transport = nodemailer.createTransport({ ...parseConnectionUrl(this.o.url), ...timeouts, logger: false, debug: false });
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      });
      const info = await Promise.race([transport.sendMail({ from: this.o.from, to: mail.to, subject: mail.subject, text: mail.text }), deadline]);
      this.log.info({ messageId: info.messageId }, 'onboarding mail sent');
    } catch (err) {
      const message = (err as Error).message;
      this.log.warn({ err: message, server: hostOf(this.o.url) }, 'onboarding mail not sent');
      throw new BerthError('MAIL_FAILED', 'the mail with your code could not be sent (the platform\'s mail server did not take it); try again in a minute', undefined, { cause: err });
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }
}

/** host:port of the URL, never its credentials. */
function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
  } catch {
    return 'unparsable URL';
  }
}
