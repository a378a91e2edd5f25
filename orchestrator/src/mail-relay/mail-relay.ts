// The platform's mail relay: teams' apps send through it (SMTP, AUTH PLAIN or
// LOGIN as their slug with a password derived from the platform key), and it
// forwards through the platform's real SMTP server, whose credentials never
// enter a team's container. Per team: an hourly quota (each recipient counts
// as one mail), at most MAX_RECIPIENTS per message, MAX_BYTES per message.
//
// It listens on the host's Docker bridge address, which apps reach as
// `mail-relay` (an /etc/hosts line for host-gateway): not on 0.0.0.0, so no
// public interface carries it, and the host firewall (scripts/docker-up)
// admits this port from tenant networks only. No STARTTLS: the traffic never
// leaves the host (container → bridge → host), and apps would have to trust
// a self-signed certificate for nothing.
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import addressparser from 'nodemailer/lib/addressparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { SecretBox } from '../crypto/secret-box.js';
import { BerthError } from '../errors.js';
import type { Logger } from '../log.js';
import { slugProblem } from '../contract/slug.js';
import type { TenantMail } from '../tenants/tenant.types.js';
import { SmtpForwarder } from './forwarder.js';
import { rewriteHeaders } from './headers.js';
import { HourlyQuota } from './hourly-quota.js';

/** The name apps reach the relay by. */
export const RELAY_HOST = 'mail-relay';
export const MAX_BYTES = 256 * 1024;
export const MAX_RECIPIENTS = 10;
const MAX_CLIENTS = 200;

export interface MailRelayOptions {
  /** The platform's real SMTP server (BERTH_SMTP_URL). */
  forwardUrl: string;
  /** The sender every team's mail goes out as: "Name <address>". */
  from: string;
  /** Bind address: the host's Docker bridge address. */
  host: string;
  /** 0 (tests only): any free port; apps' URLs then change with every start. */
  port: number;
  perHour: number;
  box: SecretBox;
  /** Whether the slug is a tenant of this platform now: a deleted team's account dies with it. */
  isTenant(slug: string): Promise<boolean>;
  log: Logger;
  now?: () => number;
  forwardTimeoutMs?: number;
}

/** A team's relay password: derived from the platform key, so nothing is stored and only that team's app is given it. */
export function relayPassword(box: SecretBox, slug: string): string {
  return box.derive(slug, 'mail-relay');
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class MailRelay {
  private server?: SMTPServer;
  private boundPort = 0;
  private readonly quota: HourlyQuota;
  private readonly forwarder: SmtpForwarder;
  private readonly fromAddress: string;

  constructor(private readonly o: MailRelayOptions) {
    this.quota = new HourlyQuota(o.perHour, o.now);
    this.forwarder = new SmtpForwarder(o.forwardUrl, o.forwardTimeoutMs ?? 15_000);
    const parsed = addressparser(o.from, { flatten: true })[0];
    if (!parsed?.address) throw new BerthError('CONFIG_INVALID', `BERTH_MAIL_FROM must name an address, like "Berth <no-reply@example.com>", got "${o.from}"`);
    this.fromAddress = parsed.address;
  }

  get port(): number {
    return this.boundPort;
  }

  tenantMail(slug: string): TenantMail {
    return {
      smtpUrl: `smtp://${slug}:${relayPassword(this.o.box, slug)}@${RELAY_HOST}:${this.boundPort}`,
      from: this.o.from,
      extraHosts: [`${RELAY_HOST}:host-gateway`]
    };
  }

  /** The team the credentials belong to, or undefined. The user name is capped before any pattern runs. */
  private async authenticate(user: string, password: string): Promise<string | undefined> {
    if (user.length > 64 || password.length > 128 || slugProblem(user)) return undefined;
    if (!sameSecret(password, relayPassword(this.o.box, user))) return undefined;
    return (await this.o.isTenant(user)) ? user : undefined;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      banner: 'Berth mail relay',
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      size: MAX_BYTES,
      maxClients: MAX_CLIENTS,
      logger: false,
      onAuth: (auth, _session, done) => {
        this.authenticate(auth.username ?? '', auth.password ?? '').then(
          (team) => (team ? done(null, { user: team }) : done(smtpError(535, '5.7.8 wrong relay user or password'))),
          (err: Error) => {
            this.o.log.warn({ err: err.message }, 'mail relay could not check credentials');
            done(smtpError(454, '4.7.0 the relay cannot check credentials now; try again later'));
          }
        );
      },
      onRcptTo: (_address, session, done) => done(this.admitRecipient(session)),
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= MAX_BYTES) chunks.push(chunk);
        });
        stream.on('end', () => {
          if (stream.sizeExceeded || bytes > MAX_BYTES) return done(smtpError(552, `5.3.4 messages through the relay are limited to ${MAX_BYTES} bytes`));
          this.relay(session, Buffer.concat(chunks)).then(() => done(), done);
        });
      }
    });
    server.on('error', (err) => this.o.log.warn({ err: err.message }, 'mail relay connection error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', (err) =>
        reject(new BerthError('CONFIG_INVALID', `the mail relay cannot listen on ${this.o.host}:${this.o.port} (${err.message}); free the port or set BERTH_MAIL_RELAY_PORT`, undefined, { cause: err }))
      );
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    this.boundPort = (server.server.address() as AddressInfo).port;
    this.o.log.info({ host: this.o.host, port: this.boundPort, upstream: this.forwarder.server }, 'mail relay listening');
  }

  /** Undefined when the recipient is admitted; else the SMTP error to answer. */
  private admitRecipient(session: SMTPServerSession): Error | undefined {
    const team = String(session.user);
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return smtpError(452, `4.5.3 at most ${MAX_RECIPIENTS} recipients per message`);
    const taken = this.quota.take(team);
    if (taken.ok) return undefined;
    this.o.log.warn({ team, perHour: this.o.perHour }, 'mail relay quota reached');
    const minutes = Math.ceil(taken.retryAfterS / 60);
    return smtpError(450, `4.7.1 team ${team} has sent its ${this.o.perHour} mails this hour; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`);
  }

  private async relay(session: SMTPServerSession, raw: Buffer): Promise<void> {
    const team = String(session.user);
    const to = session.envelope.rcptTo.map((r) => r.address);
    try {
      await this.forwarder.forward({ from: this.fromAddress, to }, rewriteHeaders(raw, this.o.from, team));
      this.o.log.info({ team, recipients: to.length }, 'mail relayed');
    } catch (err) {
      this.o.log.warn({ team, upstream: this.forwarder.server, err: (err as Error).message }, 'mail relay could not forward');
      throw smtpError(451, "4.3.0 the platform's mail server did not take the message; try again later");
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
