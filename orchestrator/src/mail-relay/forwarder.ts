// The relay's one outside effect: hand a message to the platform's real SMTP
// server (nodemailer), a transport per message with a deadline on the whole
// send, closed in `finally`. Errors name the server's host, never the URL
// (it carries the platform's credentials).
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';

export interface Envelope {
  from: string;
  to: string[];
}

export class SmtpForwarder {
  constructor(private readonly url: string, private readonly timeoutMs: number) {}

  get server(): string {
    try {
      const u = new URL(this.url);
      return `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
    } catch {
      return 'unparsable URL';
    }
  }

  async forward(envelope: Envelope, raw: Buffer): Promise<void> {
    const timeouts = { connectionTimeout: this.timeoutMs, greetingTimeout: this.timeoutMs, socketTimeout: this.timeoutMs };
    const transport = nodemailer.createTransport({ ...parseConnectionUrl(this.url), ...timeouts, logger: false, debug: false });
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.server} gave no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      await Promise.race([transport.sendMail({ envelope: { from: envelope.from, to: envelope.to }, raw }), deadline]);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }
}
