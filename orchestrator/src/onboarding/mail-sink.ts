// Development mail: with no SMTP server configured for onboarding, the
// orchestrator runs this SMTP sink on 127.0.0.1 (smtp-server) and the mailer
// sends to it. Every message is stored, never delivered; operators read them
// in the console. No STARTTLS (it has no certificate, and nodemailer would
// refuse the self-signed one smtp-server offers) and no AUTH: it only listens
// on loopback.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../log.js';
import type { CapturedMailsRepository } from './captured-mails.repository.js';
import { parseMail } from './mail-parse.js';

const MAX_BYTES = 256 * 1024;

export class MailSink {
  private server?: SMTPServer;
  private boundPort = 0;

  constructor(private readonly mails: CapturedMailsRepository, private readonly log: Logger) {}

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.boundPort}`;
  }

  async start(port: number): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: MAX_BYTES,
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if ((stream as { sizeExceeded?: boolean }).sizeExceeded) return done(Object.assign(new Error('message too large for the sink'), { responseCode: 552 }));
          const raw = Buffer.concat(chunks).toString('utf8');
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address)
          };
          this.mails.add({ ...parseMail(raw), envelope, size: raw.length, raw }).then(() => done(), (err: Error) => {
            this.log.warn({ err: err.message }, 'mail sink could not store a mail');
            done(Object.assign(new Error('the sink could not store the mail'), { responseCode: 451 }));
          });
        });
      }
    });
    server.on('error', (err) => this.log.warn({ err: err.message }, 'mail sink error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.server.address() as AddressInfo).port;
    this.log.info({ port: this.boundPort }, 'onboarding mail sink listening (no SMTP configured: mails are captured, not delivered)');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
